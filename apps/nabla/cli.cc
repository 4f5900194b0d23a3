// The `nabla` command as a function (cli.h): the commands, parsing, and the exit status
// of every error.
#include "cli.h"

#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <new>
#include <string>

#include "commands.h"
#include "exit_status.h"
#include "nabla/core/cpu.h"
#include "nabla/core/runtime.h"
#include "nabla/train/run_dir.h"
#include "output.h"
#include "parse_errors.h"

namespace nabla::cli {

int run_cli(int argc, char** argv) {
  CLI::App app{"nabla: neural networks by backpropagation, as clear as the textbook"};
  // version, build type and the kernels' instruction set (chosen at run time, nabla/cpu.h)
  app.set_version_flag("--version", [] {
    return std::string("nabla ") + NABLA_VERSION + " (" + NABLA_BUILD_TYPE + " build), kernels " +
           nabla::kernel_isa() + ", OpenBLAS " + nabla::blas_core();
  });
  app.require_subcommand(1);
  app.footer(kExitStatusHelp);
  std::map<CLI::App*, Runner> runners;
  auto add = [&](Runner (*adder)(CLI::App&)) {
    std::size_t before = app.get_subcommands({}).size();
    Runner run = adder(app);
    CLI::App* sub = app.get_subcommands({})[before];
    sub->footer(kExitStatusHelp);
    runners[sub] = std::move(run);
  };
  add(add_example_command);
  add(add_gradcheck_command);
  add(add_knn_command);
  add(add_train_command);
  add(add_eval_command);
  add(add_predict_command);
  add(add_export_command);
  add(add_ner_command);
  add(add_landscape_command);
  add(add_optimizers_command);

  CLI::App* chosen = nullptr;
  auto usage_error = [&](const std::string& message) {
    std::string who = chosen != nullptr ? "nabla " + chosen->get_name() : "nabla";
    std::cerr << who << ": error: " << message << "\nRun '" << who << " --help' for more.\n";
    return kExitUsageError;
  };
  // What the command printed must reach stdout: a success whose lines were lost is an
  // error. (After a failure, stdout is flushed as it may.)
  auto finished = [](int status) {
    if (status == kExitOk) {
      flush_stdout();
    } else {
      std::cout.flush();
      std::fflush(stdout);
    }
    return status;
  };
  try {
    try {
      app.parse(argc, argv);  // (--version may meet a bad NABLA_ISA: caught below)
    } catch (const CLI::ParseError& e) {
      return finished(report_parse_error(app, e));
    }
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) {
        chosen = sub;
        return finished(run());
      }
    }
  } catch (const std::bad_alloc&) {
    // (No allocation here: the message is made of what exists already.)
    std::cerr << "nabla: error: out of memory while running 'nabla";
    if (chosen != nullptr) std::cerr << ' ' << chosen->get_name();
    std::cerr << "': the data, the model or the options ask for more memory than this "
                 "machine (or its limit, ulimit -v) can give\n";
    return kExitRuntimeError;
  } catch (const UsageError& e) {
    return usage_error(e.what());
  } catch (const nabla::RunDirTaken& e) {
    // The library's run directory errors (train/run_dir.h) in the command line's words.
    return usage_error("--out " + e.dir().string() + " already holds " + e.file() +
                       " (another run?); choose another directory, or add --overwrite to "
                       "replace its run");
  } catch (const nabla::RunDirLocked& e) {
    std::cerr << "nabla: error: run directory " << e.dir().string()
              << " is in use by another nabla train (it holds " << e.lock_file().string()
              << "); wait for it or choose another --out\n";
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "nabla: error: " << e.what() << "\n";
    return kExitRuntimeError;
  } catch (...) {
    std::cerr << "nabla: error: an unexpected error (not a std::exception)\n";
    return kExitRuntimeError;
  }
  return kExitRuntimeError;
}

}  // namespace nabla::cli
