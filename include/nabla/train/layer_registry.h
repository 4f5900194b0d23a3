// nabla/layer_registry.h — layer kinds by name, so that a model is described as data (a
// list of kinds with their options, nabla/model_spec.h) and built without code.
//
//   const LayerKind& conv = builtin_layers().at("conv");
//   LayerOptions o = conv.complete({{"filters", 30}, {"kernel", 5}});  // defaults added, checked
//   LayerPlan plan = conv.plan(o, {1, 28, 28});  // output (30, 24, 24); W (30, 1, 5, 5), b (30)
//   Rng rng(42);
//   std::unique_ptr<Layer> layer = conv.build(o, {1, 28, 28}, LayerInit{Init::normal, 0.01, &rng});
//
// plan() allocates nothing: a model file's description is checked with it against the
// file's tensors before any layer is built. A new layer kind is one LayerKind added to the
// registry (src/train/layer_kinds.cc for the built-in ones); the Trainer, the checkpoints
// and the command line then take it as they are.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/layers.h"
#include "nabla/train/optim.h"

NABLA_API_BEGIN
namespace nabla {

// A layer's options by name: sizes and rates ({"filters": 30, "kernel": 5}).
using LayerOptions = std::map<std::string, double>;

// One option a layer kind takes.
struct LayerOption {
  std::string name;
  double fallback = 0;  // the value when not given (unless required)
  bool required = false;
  double min = 0, max = 0;  // allowed range, inclusive
  bool integer = true;      // a whole number
  std::string help;
};

// What a layer makes of one example of shape `in`, computed without allocating.
struct LayerPlan {
  Shape output;
  std::vector<std::pair<std::string, Shape>> parameters;  // the layer's own names: W, b
  std::vector<std::pair<std::string, Shape>> buffers;     // running_mean, ...
};

// How weights start: each weight's standard deviation is init_std(init, fan_in,
// normal_std) (optim.h); the random numbers come from *rng (also the seeds of layers with
// random streams of their own, such as dropout's).
struct LayerInit {
  Init init = Init::normal;
  double normal_std = 0.01;
  Rng* rng = nullptr;
  DType dtype = DType::f32;
};

struct LayerKind {
  std::string name;  // "conv"
  std::string help;  // one line, for --help and the README
  // In the order an --arch token gives them positionally (conv:30x5 is filters 30,
  // kernel 5); `positional` of them may be given so.
  std::vector<LayerOption> options;
  std::size_t positional = 0;
  // Output and state shapes for an example of shape `in`; ValueError when `in` does not
  // fit (naming the kind and the shapes). The options are complete().
  std::function<LayerPlan(const LayerOptions& options, const Shape& in)> plan;
  // The layer itself, with the parameters plan() names, of its shapes.
  std::function<std::unique_ptr<Layer>(const LayerOptions& options, const Shape& in,
                                       const LayerInit& init)>
      build;

  // `given` with the defaults added; ValueError naming the kind and the option for an
  // unknown option, a missing required one, a fraction where a whole number is due or a
  // value out of range.
  LayerOptions complete(const LayerOptions& given) const;
};

class LayerRegistry {
 public:
  // ValueError if a kind of that name is there already.
  void add(LayerKind kind);
  bool contains(const std::string& name) const;
  // ValueError listing the known kinds if there is none of that name.
  const LayerKind& at(const std::string& name) const;
  const std::vector<LayerKind>& kinds() const { return kinds_; }

 private:
  std::vector<LayerKind> kinds_;
};

// affine, relu, sigmoid, tanh, and the convolutional network's conv, maxpool, avgpool,
// batchnorm, dropout, flatten. Built once, then read only.
const LayerRegistry& builtin_layers();

}  // namespace nabla
NABLA_API_END
