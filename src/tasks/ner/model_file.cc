// The window tagger's file: parameters as safetensors, vocabulary, tags and options in
// its metadata.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/safetensors.h"
#include "nabla/ops/ops.h"
#include "nabla/tasks/ner.h"

namespace nabla {
namespace {

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : "\n") + s;
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

}  // namespace

void save_window_tagger(const std::string& path, WindowTagger& model,
                        const std::map<std::string, std::string>& extra) {
  const NerOptions& o = model.options();
  std::map<std::string, std::string> meta = extra;
  meta["model"] = "window_tagger";
  meta["vocabulary"] = join_lines(model.vocabulary().words());
  meta["tags"] = join_lines(model.tags());
  meta["window"] = std::to_string(o.window);
  meta["hidden"] = std::to_string(o.hidden);
  meta["activation"] = o.activation;
  meta["shape_dim"] = std::to_string(o.shape_dim);
  meta["dim"] = std::to_string(model.dim());
  save_safetensors(path, state_dict(model), meta, Flush::fast);
}

WindowTagger load_window_tagger(const std::string& path) {
  SafetensorsFile f = load_safetensors(path);
  const std::string where = path + ": ";
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) {
      throw DataError(where + "not a window tagger (no '" + key + "' in its metadata)");
    }
    return it->second;
  };
  auto number = [&](const std::string& key) {
    const std::string& text = get(key);
    std::int64_t value = -1;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < 0 || value > 1000000) {
      throw DataError(where + "metadata '" + key + "' is not a small whole number: '" + text + "'");
    }
    return value;
  };
  if (get("model") != "window_tagger") {
    // A network of `nabla train` holds its description as JSON, with its kind.
    std::string kind = "'" + get("model") + "'";
    auto format = f.metadata.find("format");
    if (format != f.metadata.end() && format->second == "nabla-model-1") {
      const nlohmann::json spec = nlohmann::json::parse(get("model"), nullptr, false);
      if (spec.is_object() && spec.contains("kind") && spec.at("kind").is_string()) {
        kind = spec.at("kind").get<std::string>();
      }
      throw DataError(where + "a " + kind +
                      " network (made by `nabla train`), not a window tagger; `nabla eval` and "
                      "`nabla predict` take it");
    }
    throw DataError(where + "a " + kind + " model, not a window tagger");
  }
  NerOptions o;
  o.window = static_cast<int>(number("window"));
  o.hidden = number("hidden");
  o.activation = get("activation");
  o.shape_dim = number("shape_dim");
  const std::int64_t dim = number("dim");

  std::vector<std::string> words = split_lines(get("vocabulary"));
  if (words.size() < 2 || words[0] != "<pad>" || words[1] != "<unk>") {
    throw DataError(where + "the vocabulary does not start with <pad>, <unk>");
  }
  Vocabulary vocab;
  for (std::size_t i = 2; i < words.size(); ++i) vocab.add(words[i]);
  if (vocab.size() != static_cast<std::int64_t>(words.size())) {
    throw DataError(where + "the vocabulary lists a word twice");
  }
  const Tensor* table = nullptr;
  for (const auto& [name, t] : f.tensors) {
    if (name == "words.W") table = &t;
  }
  if (table == nullptr) throw DataError(where + "no tensor 'words.W'");
  if (table->rank() != 2 || table->size(0) != vocab.size() || table->size(1) != dim) {
    throw DataError(where + "the vocabulary has " + std::to_string(vocab.size()) +
                    " words of dimension " + std::to_string(dim) + ", but words.W is " +
                    shape_str(table->shape()));
  }
  // Every tensor the metadata implies must be in the file with its shape before the model
  // is built, so that nothing larger than the file is allocated from its metadata.
  const std::vector<std::string> tags = split_lines(get("tags"));
  const auto n_tags = static_cast<std::int64_t>(tags.size());
  const std::int64_t k = 2 * static_cast<std::int64_t>(o.window) + 1;
  const std::vector<std::pair<std::string, Shape>> expected = {
      {"shapes.W", {kWordShapes + 1, o.shape_dim}},
      {"hidden.W", {k * (dim + o.shape_dim), o.hidden}},
      {"hidden.b", {o.hidden}},
      {"output.W", {o.hidden, n_tags}},
      {"output.b", {n_tags}}};
  for (const auto& [name, shape] : expected) {
    const Tensor* t = nullptr;
    for (const auto& [key, value] : f.tensors) {
      if (key == name) t = &value;
    }
    if (t == nullptr) throw DataError(where + "no tensor '" + name + "'");
    if (t->shape() != shape) {
      throw DataError(where + "the metadata makes " + name + " " + shape_str(shape) +
                      ", but the file's is " + shape_str(t->shape()));
    }
  }
  // A NaN or an infinity would tag with it: every parameter must be finite.
  for (const auto& [name, t] : f.tensors) {
    if (const std::int64_t i = first_non_finite(t); i >= 0) {
      const double v = t.get(i);
      const char* value = std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf");
      throw DataError(where + "parameter " + name + " holds " + value + " (element " +
                      std::to_string(i) + ")");
    }
  }
  try {
    Rng rng(0);  // every parameter is overwritten below
    WindowTagger model(std::move(vocab), table->to(DType::f32), tags, o, rng);
    load_state_dict(model, f.tensors);
    return model;
  } catch (const std::invalid_argument& e) {
    throw DataError(where + e.what());
  }
}

}  // namespace nabla
