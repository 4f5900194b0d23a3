// The exit status of every nabla command, shown at the end of each --help:
//   0  success
//   1  runtime error: unreadable or bad data, a damaged model file, a run that failed
//   2  usage error: an unknown command or option, a bad or conflicting option value
// Commands return kExitOk; errors while running are exceptions that main() turns into 1,
// except UsageError (2), which a command throws for a command line it cannot run (options
// that conflict with each other or with a checkpoint), and the library's RunDirTaken (2:
// an --out directory holding another run).
#pragma once

#include <stdexcept>

namespace nabla::cli {

enum ExitStatus : int { kExitOk = 0, kExitRuntimeError = 1, kExitUsageError = 2 };

// The footer of every --help.
inline constexpr const char* kExitStatusHelp =
    "Exit status: 0 success; 1 runtime error (unreadable or bad data, a damaged model file,\n"
    "a run that failed); 2 usage error (an unknown command or option, a bad or conflicting "
    "value).";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace nabla::cli
