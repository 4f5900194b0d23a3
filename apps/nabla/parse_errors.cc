// What `nabla` says about a command line it cannot parse (parse_errors.h).
#include "parse_errors.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "exit_status.h"
#include "suggest.h"

namespace nabla::cli {

namespace {

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& n : option->get_lnames()) names.push_back("--" + n);
    for (const std::string& n : option->get_snames()) names.push_back("-" + n);
  }
  return names;
}

std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> match = closest_match(word, candidates);
  return match ? "; did you mean '" + *match + "'?" : "";
}

}  // namespace

int report_parse_error(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  CLI::App* command = nullptr;  // the subcommand being parsed, if any
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->parsed()) command = sub;
  }
  CLI::App& scope = command != nullptr ? *command : app;
  const std::string who = command != nullptr ? "nabla " + command->get_name() : "nabla";
  // Words no option or command took: without a command, the first plain word is the
  // command mistyped; else the first that looks like an option, else the first.
  std::vector<std::string> extras = app.remaining(true);
  auto option = std::find_if(extras.begin(), extras.end(), [](const std::string& w) {
    return w.size() > 1 && w[0] == '-' && !std::isdigit(static_cast<unsigned char>(w[1]));
  });
  auto plain = std::find_if(extras.begin(), extras.end(),
                            [](const std::string& w) { return w.empty() || w[0] != '-'; });
  std::string message;
  if (command == nullptr && plain != extras.end()) {
    message = "unknown command '" + *plain + "'" + did_you_mean(*plain, command_names(app)) +
              " (commands: " + joined(command_names(app)) + ")";
  } else if (option != extras.end()) {
    std::string word = option->substr(0, option->find('='));
    message = "unknown option '" + word + "'" + did_you_mean(word, option_names(scope));
  } else if (!extras.empty()) {
    message = "unexpected argument '" + extras[0] + "'";
  } else if (command == nullptr && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    message = "a command is required: " + joined(command_names(app));
  } else {
    message = e.what();
  }
  std::cerr << who << ": error: " << message << "\nRun '" << who << " --help' for more.\n";
  return kExitUsageError;
}

}  // namespace nabla::cli
