// nabla — build and train neural networks by backpropagation.
#include <malloc.h>

#include <exception>
#include <iostream>
#include <map>
#include <string>

#include "commands.h"
#include "nabla/cpu.h"

int main(int argc, char** argv) {
  // Keep freed memory for reuse instead of returning it to the system after every
  // evaluation block: otherwise each block's tensors fault in fresh zeroed pages.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  CLI::App app{"nabla: neural networks by backpropagation, as clear as the textbook"};
  // version, build type and the kernels' instruction set (chosen at run time, nabla/cpu.h)
  app.set_version_flag("--version", [] {
    return std::string("nabla ") + NABLA_VERSION + " (" + NABLA_BUILD_TYPE + " build), kernels " +
           nabla::kernel_isa();
  });
  app.require_subcommand(1);
  std::map<CLI::App*, nabla::cli::Runner> runners;
  auto add = [&](nabla::cli::Runner (*adder)(CLI::App&)) {
    std::size_t before = app.get_subcommands({}).size();
    nabla::cli::Runner run = adder(app);
    runners[app.get_subcommands({})[before]] = std::move(run);
  };
  add(nabla::cli::add_example_command);
  add(nabla::cli::add_gradcheck_command);
  add(nabla::cli::add_knn_command);
  add(nabla::cli::add_train_command);
  add(nabla::cli::add_eval_command);
  add(nabla::cli::add_predict_command);
  add(nabla::cli::add_ner_command);

  try {
    CLI11_PARSE(app, argc, argv);  // (--version may meet a bad NABLA_ISA: caught below)
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    std::cerr << "nabla: error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
