// The layer kinds of multilayer perceptrons: affine and the activations.
#include "train/layer_kinds.h"

#include <memory>

#include "nabla/train/model_spec.h"

namespace nabla {

std::int64_t values_of(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

namespace {

// A layer that keeps the shape of its input.
template <class L>
LayerKind elementwise(const char* name, const char* help) {
  LayerKind k;
  k.name = name;
  k.help = help;
  k.plan = [](const LayerOptions&, const Shape& in) { return LayerPlan{in, {}, {}}; };
  k.build = [](const LayerOptions&, const Shape&, const LayerInit&) {
    return std::make_unique<L>();
  };
  return k;
}

}  // namespace

void add_dense_layer_kinds(LayerRegistry& registry) {
  LayerKind affine;
  affine.name = "affine";
  affine.help = "Y = X.W + b, any input flattened: affine:OUT";
  affine.options = {
      {"out", 0, true, 1, static_cast<double>(ModelSpec::kMaxWidth), true, "outputs"}};
  affine.positional = 1;
  affine.plan = [](const LayerOptions& o, const Shape& in) {
    const std::int64_t d = values_of(in), out = whole(o, "out");
    return LayerPlan{{out}, {{"W", {d, out}}, {"b", {out}}}, {}};
  };
  affine.build = [](const LayerOptions& o, const Shape& in, const LayerInit& init) {
    const std::int64_t d = values_of(in), out = whole(o, "out");
    Tensor W = init_weight(init.init, d, out, *init.rng, init.normal_std, init.dtype);
    return std::make_unique<Affine>(std::move(W), Tensor({out}, init.dtype));
  };
  registry.add(std::move(affine));
  registry.add(elementwise<Relu>("relu", "max(0, x)"));
  registry.add(elementwise<Sigmoid>("sigmoid", "1 / (1 + exp(-x))"));
  registry.add(elementwise<Tanh>("tanh", "tanh(x)"));
}

}  // namespace nabla
