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
  // The innermost subcommand being parsed, if any (`ner` in `nabla ner tagg`), and its
  // full name.
  CLI::App* command = nullptr;
  std::string who = "nabla";
  for (CLI::App* level = &app; level != nullptr;) {
    CLI::App* parsed = nullptr;
    for (CLI::App* sub : level->get_subcommands({})) {
      if (sub->parsed()) parsed = sub;
    }
    if (parsed != nullptr) {
      command = parsed;
      who += " " + parsed->get_name();
    }
    level = parsed;
  }
  CLI::App& scope = command != nullptr ? *command : app;
  // Words no option or command took: where commands are due (at the top, or in a command
  // of commands such as `ner`), the first plain word is a command mistyped.
  const bool commands_due = command_names(scope).size() > 0;
  // Else the first that looks like an option, else the first.
  std::vector<std::string> extras = app.remaining(true);
  auto option = std::find_if(extras.begin(), extras.end(), [](const std::string& w) {
    return w.size() > 1 && w[0] == '-' && !std::isdigit(static_cast<unsigned char>(w[1]));
  });
  auto plain = std::find_if(extras.begin(), extras.end(),
                            [](const std::string& w) { return w.empty() || w[0] != '-'; });
  std::string message;
  if (commands_due && plain != extras.end()) {
    message = "unknown command '" + *plain + "'" + did_you_mean(*plain, command_names(scope)) +
              " (commands: " + joined(command_names(scope)) + ")";
  } else if (option != extras.end()) {
    std::string word = option->substr(0, option->find('='));
    message = "unknown option '" + word + "'" + did_you_mean(word, option_names(scope));
  } else if (!extras.empty()) {
    message = "unexpected argument '" + extras[0] + "'";
  } else if (commands_due && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    message = "a command is required: " + joined(command_names(scope));
  } else {
    message = e.what();
  }
  std::cerr << who << ": error: " << message << "\nRun '" << who << " --help' for more.\n";
  return kExitUsageError;
}

}  // namespace nabla::cli
