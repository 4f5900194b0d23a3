// nabla/model_spec.h — a model described as data: the shape of one example, a list of
// layers with their options, the loss and the initialisation. Model files store it (as
// JSON), so load_model rebuilds the network, and build_model makes it through the layer
// registry (layer_registry.h).
//
//   ModelSpec spec = model_preset("simple-convnet", {1, 28, 28}, 10);
//   ModelSpec mine = model_from_arch("conv:16x3,pad=1 relu maxpool:2 affine:10", {1, 28, 28}, 10);
//   Rng rng(42);
//   Sequential net = build_model(spec, rng);   // W1 (30, 1, 5, 5), b1, W2 (4320, 100), ...
//
// The textbook's MLPs (kinds two-layer-net, mlp, linear) keep their compact form: inputs,
// hidden sizes and one activation, expanded to layers by layer_list(); model files written
// before layer lists existed hold that form and load as they did.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/network.h"
#include "nabla/train/layer_registry.h"
#include "nabla/train/optim.h"

NABLA_API_BEGIN
namespace nabla {

// One layer of a model: a kind of the registry and its options.
struct LayerSpec {
  std::string kind;  // "affine", "conv", "relu", ...
  LayerOptions options;
  bool operator==(const LayerSpec& other) const = default;
};

// The architecture of a model, stored in its file so it can be rebuilt.
struct ModelSpec {
  // two-layer-net | mlp | linear: the MLP presets, described by inputs, hidden and
  // activation. Any other kind (simple-convnet, deep-convnet, arch) is described by
  // input_shape and layers.
  std::string kind = "two-layer-net";
  std::int64_t inputs = 784;  // values in one example (for layer lists: input_shape's)
  std::int64_t classes = 10;  // the outputs: classes, or a regression's values (1)
  std::vector<std::int64_t> hidden = {50};  // MLP presets: hidden layer sizes
  std::string activation = "relu";          // MLP presets: relu | sigmoid | tanh
  Shape input_shape;                        // layer lists: one example, e.g. (1, 28, 28)
  std::vector<LayerSpec> layers;            // layer lists: the layers, options complete
  std::string loss = "softmax";             // softmax | svm | mse (regression)
  Init init = Init::normal;
  double init_std = 0.01;  // for Init::normal

  // Bounds on what a spec may ask for (from options or from a model file): each layer's
  // width, the number of hidden layers and the parameters in all; for layer lists also
  // the layers, the values in one example at any layer, and each size option.
  static constexpr std::int64_t kMaxWidth = std::int64_t{1} << 20;
  static constexpr std::size_t kMaxHiddenLayers = 64;
  static constexpr std::int64_t kMaxParameters = std::int64_t{1} << 28;  // 1 GiB of f32
  static constexpr std::size_t kMaxLayers = 256;
  static constexpr std::int64_t kMaxActivations = std::int64_t{1} << 24;

  // Whether the kind is one of the MLP presets (two-layer-net, mlp, linear).
  bool is_mlp() const;
  // The shape of one example: (inputs) for the MLP presets, else input_shape.
  Shape example_shape() const;
  // The layers, the MLP presets expanded (affine:50 relu affine:10, ...).
  std::vector<LayerSpec> layer_list() const;

  std::string to_json() const;
  // Throws ValueError naming the field that is missing or wrong (an integer field holding
  // a fraction or a number out of range included).
  static ModelSpec from_json(const std::string& json);
  // Throws ValueError for an unknown kind, layer, option, activation or loss, a size out
  // of bounds, layers that do not fit their input or end in other than `classes` outputs,
  // or an init_std that is not a positive number. Allocates nothing.
  void check() const;
  // The parameters build_model makes, in order, with their shapes: W1 (inputs, hidden[0]),
  // b1 (hidden[0]), ..., Wn (.., classes), bn (classes) for an MLP; a convolution's W is
  // (filters, channels, kernel, kernel). Calls check().
  std::vector<std::pair<std::string, Shape>> parameter_shapes() const;
  // The buffers, likewise (a batch norm's running_mean3, running_var3).
  std::vector<std::pair<std::string, Shape>> buffer_shapes() const;
  // "two-layer-net 784-50-10 relu, softmax loss";
  // "simple-convnet 1x28x28: conv:30x5 relu maxpool:2 affine:100 relu affine:10, softmax loss"
  std::string describe() const;
};

// The kinds model_preset knows: two-layer-net, mlp, linear, simple-convnet, deep-convnet.
const std::vector<std::string>& model_preset_names();
// A preset for examples of `input_shape` in `classes` classes. The MLPs flatten the
// input (two-layer-net: hidden 50; mlp: 100, 100); the textbook's convolutional networks
// take images (channels, height, width):
//   simple-convnet  conv 30 filters 5x5 -> relu -> maxpool 2 -> affine 100 -> relu -> affine,
//                   weights 0.01 N(0, 1);
//   deep-convnet    conv 16 3x3 pad 1, relu, conv 16 3x3 pad 1, relu, maxpool 2,
//                   conv 32 3x3 pad 1, relu, conv 32 3x3 pad 2, relu, maxpool 2,
//                   conv 64 3x3 pad 1, relu, conv 64 3x3 pad 1, relu, maxpool 2,
//                   affine 50, relu, dropout 0.5, affine, dropout 0.5; He initialisation.
// ValueError for an unknown name or a shape the preset does not take. A model of one output
// (classes 1) is a regression's, with the mse loss; others have the softmax loss (set
// `loss` after for another).
ModelSpec model_preset(const std::string& kind, const Shape& input_shape, std::int64_t classes);

// A model from an --arch string (kind "arch"), for examples of `input_shape`:
//
//   arch  = layer { " " layer }
//   layer = kind [ ":" value { "x" value } ] { "," option "=" value }
//
// e.g. "conv:30x5 relu maxpool:2 affine:100 relu affine:10": the values after the colon
// are the kind's leading options in order (conv: filters, kernel; maxpool: size; affine:
// out; dropout: p), the named ones any option ("conv:32x3,pad=2", "maxpool:2,stride=1",
// "batchnorm,eps=0.001"). A first token "input:CxHxW" gives the example's shape instead
// (its values must be as many as input_shape's). ValueError naming the token (and its
// position) that is wrong. The loss as model_preset's: mse for one output, else softmax.
ModelSpec model_from_arch(const std::string& arch, const Shape& input_shape, std::int64_t classes);

// An --arch string read without the data: each layer's kind and complete options, and
// the shape of a first "input:" token (empty without one). What this refuses
// (ValueError, as model_from_arch words it) is wrong whatever the data; what it accepts
// may still not fit the data (a kernel larger than the image), which model_from_arch
// checks.
struct ArchLayers {
  Shape input_shape;
  std::vector<LayerSpec> layers;
};
ArchLayers parse_arch(const std::string& arch);
// The layers as an --arch string: options at their defaults are left out.
std::string arch_string(const std::vector<LayerSpec>& layers);

// The network of a spec: its layers through the registry, with SoftmaxWithLoss, SvmLoss
// or (mse, a regression's) MeanSquaredLoss. A first affine layer on flat float32 input is a
// SparseAffine (the fast path for pixel rows). Checks the spec.
Sequential build_model(const ModelSpec& spec, Rng& rng, DType dtype = DType::f32);

}  // namespace nabla
NABLA_API_END
