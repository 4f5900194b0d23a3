// nabla/train/torch_export.h — a nabla model as PyTorch names and lays out its tensors.
//
// nabla stores a model as its layers' parameters by nabla's names, in nabla's layouts
// (docs/model-format.md): an affine layer's W is (in, out), as the textbook writes
// X.W + b. torch_state_dict gives the same model as the state_dict of a torch.nn.Sequential
// with one module a layer, and the Sequential itself, described as JSON:
//
//   LoadedModel m = load_model("run/model.safetensors");
//   TorchExport t = torch_state_dict(m);
//   // t.tensors: "0.weight" (50, 784) = W1 transposed, "0.bias", "2.weight", ...
//   // t.modules: [{"module": "Linear", "in_features": 784, "out_features": 50},
//   //             {"module": "ReLU"}, ...]
//
// The layer kinds that map one to one: affine → Linear (weight = W transposed; a Flatten
// goes before it when its input is an image), conv → Conv2d (same layout), batchnorm →
// BatchNorm1d or BatchNorm2d (gamma → weight, beta → bias, running_mean, running_var;
// PyTorch's momentum is 1 - nabla's), maxpool / avgpool → MaxPool2d / AvgPool2d,
// relu / sigmoid / tanh, dropout, flatten. The Sequential returns the scores before the
// loss (logits for softmax), whose argmax is nabla's prediction.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/train/train.h"

NABLA_API_BEGIN
namespace nabla {

struct TorchExport {
  std::vector<std::pair<std::string, Tensor>> tensors;  // the state_dict, in module order
  std::string modules;  // JSON array: the Sequential's modules and their arguments
  Shape input_shape;    // one example: (784) or (1, 28, 28); a batch adds N in front
};

// Throws ValueError naming the layer for a layer kind with no one-to-one PyTorch module
// (a window embedding; a max pool with padding, which PyTorch pads with -inf).
TorchExport torch_state_dict(const LoadedModel& model);

// Reads the nabla model at `model_path` and writes `out_path`: the state_dict's tensors,
// with metadata "format": "pt", "nabla.torch_modules" (TorchExport::modules) and
// "nabla.input_shape" (JSON array). Throws DataError for a model file that cannot be read.
void export_torch(const std::string& model_path, const std::string& out_path);

}  // namespace nabla
NABLA_API_END
