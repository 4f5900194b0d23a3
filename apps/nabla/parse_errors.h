// What `nabla` says about a command line it cannot parse: the command, the word it did
// not know and the closest one it does ("nabla train: error: unknown option '--iter'; did
// you mean '--iters'?"), the commands when none was given, and exit status 2 (usage error).
#pragma once

#include <CLI/CLI.hpp>

namespace nabla::cli {

// Prints the error for `e` on stderr and returns the exit status: 0 for --help and
// --version (printed on stdout), else kExitUsageError.
int report_parse_error(CLI::App& app, const CLI::ParseError& e);

}  // namespace nabla::cli
