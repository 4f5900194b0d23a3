// A nabla model as the state_dict of a torch.nn.Sequential (nabla/train/torch_export.h).
#include "nabla/train/torch_export.h"

#include <cmath>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>

#include "nabla/core/safetensors.h"
#include "nabla/ops/ops.h"
#include "nabla/train/layer_registry.h"

namespace nabla {

namespace {

// The model's parameters and buffers by their nabla names (W1, running_mean3, ...).
std::map<std::string, Tensor> state_by_name(const LoadedModel& model) {
  std::map<std::string, Tensor> state;
  for (const auto& [name, var] : model.net.named_parameters()) state.emplace(name, var.value());
  for (const auto& [name, var] : model.net.named_buffers()) state.emplace(name, var.value());
  return state;
}

std::int64_t whole(const LayerOptions& options, const std::string& name) {
  return static_cast<std::int64_t>(options.at(name));
}

}  // namespace

TorchExport torch_state_dict(const LoadedModel& model) {
  const ModelSpec& spec = model.spec;
  const std::map<std::string, Tensor> state = state_by_name(model);
  // The model's names, in the order the layers own them: layer i's plan names its own
  // (W, b), and the next ones of these lists are theirs in the model (W1, b1).
  const std::vector<std::pair<std::string, Shape>> parameters = spec.parameter_shapes();
  const std::vector<std::pair<std::string, Shape>> buffers = spec.buffer_shapes();
  std::size_t next_parameter = 0, next_buffer = 0;
  auto take = [&](const std::vector<std::pair<std::string, Shape>>& names, std::size_t& next) {
    const std::string& name = names.at(next++).first;
    return state.at(name);
  };

  TorchExport out;
  out.input_shape = spec.example_shape();
  nlohmann::json modules = nlohmann::json::array();
  Shape in = out.input_shape;
  for (const LayerSpec& layer : spec.layer_list()) {
    const LayerKind& kind = builtin_layers().at(layer.kind);
    const LayerOptions options = kind.complete(layer.options);
    const LayerPlan plan = kind.plan(options, in);
    const std::string index = std::to_string(modules.size());
    auto refuse = [&](const std::string& why) {
      throw ValueError("export --format torch: layer " + std::to_string(modules.size()) + " (" +
                       layer.kind + ") " + why);
    };
    if (layer.kind == "affine") {
      if (in.size() > 1) {  // nabla's affine flattens an image; PyTorch's Linear does not
        modules.push_back({{"module", "Flatten"}});
      }
      const std::string at = std::to_string(modules.size());
      const Tensor W = take(parameters, next_parameter), b = take(parameters, next_parameter);
      out.tensors.emplace_back(at + ".weight", transpose(W));  // (in, out) -> (out, in)
      out.tensors.emplace_back(at + ".bias", b);
      modules.push_back({{"module", "Linear"},
                         {"in_features", W.shape()[0]},
                         {"out_features", W.shape()[1]}});
    } else if (layer.kind == "conv") {
      const Tensor W = take(parameters, next_parameter), b = take(parameters, next_parameter);
      out.tensors.emplace_back(index + ".weight", W);  // (out, in, kh, kw) in both
      out.tensors.emplace_back(index + ".bias", b);
      modules.push_back({{"module", "Conv2d"},
                         {"in_channels", W.shape()[1]},
                         {"out_channels", W.shape()[0]},
                         {"kernel_size", W.shape()[2]},
                         {"stride", whole(options, "stride")},
                         {"padding", whole(options, "pad")}});
    } else if (layer.kind == "batchnorm") {
      out.tensors.emplace_back(index + ".weight", take(parameters, next_parameter));  // gamma
      out.tensors.emplace_back(index + ".bias", take(parameters, next_parameter));    // beta
      out.tensors.emplace_back(index + ".running_mean", take(buffers, next_buffer));
      out.tensors.emplace_back(index + ".running_var", take(buffers, next_buffer));
      // nabla keeps momentum * running + (1 - momentum) * batch; PyTorch weighs the batch.
      modules.push_back({{"module", in.size() == 3 ? "BatchNorm2d" : "BatchNorm1d"},
                         {"num_features", in[0]},
                         {"eps", options.at("eps")},
                         {"momentum", std::round((1 - options.at("momentum")) * 1e9) / 1e9}});
    } else if (layer.kind == "maxpool" || layer.kind == "avgpool") {
      if (whole(options, "pad") != 0) refuse("has padding, which PyTorch's pools treat otherwise");
      const std::int64_t size = whole(options, "size");
      const std::int64_t stride = whole(options, "stride") == 0 ? size : whole(options, "stride");
      modules.push_back({{"module", layer.kind == "maxpool" ? "MaxPool2d" : "AvgPool2d"},
                         {"kernel_size", size},
                         {"stride", stride}});
    } else if (layer.kind == "relu" || layer.kind == "sigmoid" || layer.kind == "tanh") {
      static const std::map<std::string, std::string> names = {
          {"relu", "ReLU"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}};
      modules.push_back({{"module", names.at(layer.kind)}});
    } else if (layer.kind == "dropout") {
      modules.push_back({{"module", "Dropout"}, {"p", options.at("p")}});
    } else if (layer.kind == "flatten") {
      modules.push_back({{"module", "Flatten"}});
    } else {
      refuse("has no one-to-one PyTorch module");
    }
    in = plan.output;
  }
  if (next_parameter != parameters.size() || next_buffer != buffers.size()) {
    throw ValueError("export --format torch: " + spec.describe() + " has " +
                     std::to_string(parameters.size()) + " parameters, the layers took " +
                     std::to_string(next_parameter));
  }
  out.modules = modules.dump();
  return out;
}

void export_torch(const std::string& model_path, const std::string& out_path) {
  const LoadedModel model = load_model(model_path);
  const TorchExport t = torch_state_dict(model);
  const nlohmann::json input_shape = t.input_shape;
  save_safetensors(out_path, t.tensors,
                   {{"format", "pt"},
                    {"nabla.torch_modules", t.modules},
                    {"nabla.input_shape", input_shape.dump()}});
}

}  // namespace nabla
