// The subcommands of the `nabla` tool. Each adds itself to the CLI11 app with
// add_<name>_command() and is run by main() when it was chosen; run functions return
// the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "suggest.h"

namespace nabla::cli {

// The whole of `text` as a finite number, or nothing ("inf", "nan", "1e999", "2x" and ""
// are not).
inline std::optional<double> finite_number(const std::string& text) {
  double value = 0;
  const char* begin = text.data() + (text.size() > 1 && text[0] == '+');  // ("+0.5" too)
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) return {};
  return value;
}

// Option checks with plain messages ("--lr: must be greater than 0, got -1").
inline CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::optional<double> v = finite_number(text);
        if (!v) return "must be a finite number, got " + text;
        return *v > 0 ? "" : "must be greater than 0, got " + text;
      },
      "POSITIVE");
}

inline CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::optional<double> v = finite_number(text);
        if (!v) return "must be a finite number, got " + text;
        return *v >= 0 ? "" : "must not be negative, got " + text;
      },
      "NONNEGATIVE");
}

// A path whose empty value would otherwise read as "not given" (--out, --resume, --dot):
// "" is refused, as the readers refuse it.
inline CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](std::string& text) -> std::string { return text.empty() ? "must not be an empty path" : ""; },
      "PATH");
}

// One of `names`, an option's enumerated values, with a suggestion for a typo:
// "--optimizer: must be one of sgd, momentum, adagrad, adam, got 'adm'; did you mean
// 'adam'?". --help shows {sgd,momentum,...}.
inline CLI::Validator one_of(std::vector<std::string> names) {
  std::string listed, braced;
  for (const std::string& n : names) {
    listed += (listed.empty() ? "" : ", ") + n;
    braced += (braced.empty() ? "{" : ",") + n;
  }
  braced += "}";
  return CLI::Validator(
      [names = std::move(names), listed](std::string& text) -> std::string {
        for (const std::string& n : names) {
          if (text == n) return "";
        }
        std::optional<std::string> match = closest_match(text, names);
        return "must be one of " + listed + ", got '" + text + "'" +
               (match ? "; did you mean '" + *match + "'?" : "");
      },
      braced);
}

// A whole number in [lo, hi], checked on the text: CLI11 alone would clamp one that does not
// fit its variable and read "-1" into an unsigned one as 2^64 - 1. `name` is shown in --help.
inline CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi, std::string name = "") {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end || value < lo || value > hi) {
          return "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                 ", got " + text;
        }
        return "";
      },
      name);
}

// Threads a command uses unless --threads says: one per core, at most 2 (layers that
// split their work, a sparse first layer's products or a convolution's images, split the
// batch between them; the evaluations during training run beside it).
int default_threads();

// Registers a subcommand; the returned function runs it after parsing.
using Runner = std::function<int()>;

// The range of --threads, the same in every command.
constexpr int kMaxThreads = 256;

Runner add_example_command(CLI::App& app);
Runner add_gradcheck_command(CLI::App& app);
Runner add_knn_command(CLI::App& app);
Runner add_train_command(CLI::App& app);
Runner add_eval_command(CLI::App& app);
Runner add_predict_command(CLI::App& app);
Runner add_export_command(CLI::App& app);
Runner add_ner_command(CLI::App& app);
Runner add_landscape_command(CLI::App& app);
Runner add_optimizers_command(CLI::App& app);

}  // namespace nabla::cli
