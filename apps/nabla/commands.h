// The subcommands of the `nabla` tool. Each adds itself to the CLI11 app with
// add_<name>_command() and is run by main() when it was chosen; run functions return
// the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace nabla::cli {

// Registers a subcommand; the returned function runs it after parsing.
using Runner = std::function<int()>;

Runner add_example_command(CLI::App& app);
Runner add_gradcheck_command(CLI::App& app);
Runner add_knn_command(CLI::App& app);
Runner add_train_command(CLI::App& app);
Runner add_eval_command(CLI::App& app);
Runner add_predict_command(CLI::App& app);

}  // namespace nabla::cli
