// `nabla export`: a model file written by `nabla train`, for another tool to read.
#include "commands.h"
#include "exit_status.h"
#include "nabla/train/torch_export.h"

namespace nabla::cli {

Runner add_export_command(CLI::App& app) {
  struct Options {
    std::string format = "torch";
    std::string model;
    std::string out;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "export", "Write a trained model for another tool (PyTorch: docs/model-format.md)");
  sub->add_option("--format", o->format,
                  "torch: the state_dict of a torch.nn.Sequential, its modules in the metadata")
      ->check(one_of({"torch"}))
      ->capture_default_str();
  sub->add_option("model", o->model, "Model file (model.safetensors of a run)")->required();
  sub->add_option("out", o->out, "File to write (safetensors)")->required();
  return [o]() -> int {
    export_torch(o->model, o->out);
    return kExitOk;
  };
}

}  // namespace nabla::cli
