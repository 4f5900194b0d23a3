// The `nabla` command as a function: main() calls it once; the command harness
// (tests/cli/command_harness_test.cc) calls it many times in one process, on generated
// command lines. It returns the exit status (exit_status.h: 0 success, 1 runtime error,
// 2 usage error) and never throws.
#pragma once

namespace nabla::cli {

// Parses argv, runs the chosen command and reports any error on stderr. A command that
// succeeded but whose output could not be written to stdout (a full disk, /dev/full)
// fails with exit status 1.
int run_cli(int argc, char** argv);

}  // namespace nabla::cli
