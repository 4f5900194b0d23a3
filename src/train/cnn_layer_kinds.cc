// The layer kinds of convolutional networks: conv, maxpool, avgpool, batchnorm, dropout,
// flatten.
#include <memory>

#include "nabla/nn/cnn_layers.h"
#include "nabla/train/model_spec.h"
#include "train/layer_kinds.h"

namespace nabla {

namespace {

constexpr double kMaxWindow = 64;  // kernel, stride and padding sizes

// The (channels, height, width) of an image example; ValueError otherwise.
void need_image(const char* kind, const Shape& in) {
  if (in.size() != 3) {
    throw ValueError(std::string(kind) + " takes images (channels, height, width), not " +
                     shape_str(in) + " (start the layers with input:CxHxW?)");
  }
}

// Output size along an axis of `in` for a window of `size` sliding by `stride` over it
// padded by `pad`; ValueError when the window does not fit.
std::int64_t slide(const char* kind, const Shape& in, std::int64_t axis, std::int64_t size,
                   std::int64_t stride, std::int64_t pad) {
  const std::int64_t padded = in[static_cast<std::size_t>(axis)] + 2 * pad;
  if (padded < size) {
    throw ValueError(std::string(kind) + ": a window of " + std::to_string(size) +
                     " does not fit the input " + shape_str(in) + " padded by " +
                     std::to_string(pad));
  }
  return (padded - size) / stride + 1;
}

LayerKind pool_kind(const char* name, const char* help, bool max) {
  LayerKind k;
  k.name = name;
  k.help = help;
  k.options = {{"size", 0, true, 1, kMaxWindow, true, "window size"},
               {"stride", 0, false, 0, kMaxWindow, true, "step (0: the size)"},
               {"pad", 0, false, 0, kMaxWindow, true, "zero padding"}};
  k.positional = 1;
  k.plan = [name](const LayerOptions& o, const Shape& in) {
    need_image(name, in);
    const std::int64_t size = whole(o, "size"), pad = whole(o, "pad");
    const std::int64_t stride = whole(o, "stride") == 0 ? size : whole(o, "stride");
    return LayerPlan{
        {in[0], slide(name, in, 1, size, stride, pad), slide(name, in, 2, size, stride, pad)},
        {},
        {}};
  };
  k.build = [max](const LayerOptions& o, const Shape&, const LayerInit&) -> std::unique_ptr<Layer> {
    if (max)
      return std::make_unique<MaxPool2D>(whole(o, "size"), whole(o, "stride"), whole(o, "pad"));
    return std::make_unique<AvgPool2D>(whole(o, "size"), whole(o, "stride"), whole(o, "pad"));
  };
  return k;
}

}  // namespace

void add_cnn_layer_kinds(LayerRegistry& registry) {
  LayerKind conv;
  conv.name = "conv";
  conv.help = "2-D convolution of (C, H, W) images: conv:FILTERSxKERNEL[,stride=S][,pad=P]";
  conv.options = {
      {"filters", 0, true, 1, static_cast<double>(ModelSpec::kMaxWidth), true, "filters"},
      {"kernel", 0, true, 1, kMaxWindow, true, "kernel size (square)"},
      {"stride", 1, false, 1, kMaxWindow, true, "step"},
      {"pad", 0, false, 0, kMaxWindow, true, "zero padding"}};
  conv.positional = 2;
  conv.plan = [](const LayerOptions& o, const Shape& in) {
    need_image("conv", in);
    const std::int64_t f = whole(o, "filters"), k = whole(o, "kernel");
    const std::int64_t s = whole(o, "stride"), p = whole(o, "pad");
    const std::int64_t oh = slide("conv", in, 1, k, s, p), ow = slide("conv", in, 2, k, s, p);
    // The product's columns (im2col): one row of C*K*K values per output pixel.
    const std::int64_t columns = oh * ow * in[0] * k * k;  // (each factor bounded: no overflow)
    if (columns > ModelSpec::kMaxActivations) {
      throw ValueError("conv: its columns (im2col) would hold " + std::to_string(columns) +
                       " values an example; at most " + std::to_string(ModelSpec::kMaxActivations) +
                       " are supported");
    }
    return LayerPlan{{f, oh, ow}, {{"W", {f, in[0], k, k}}, {"b", {f}}}, {}};
  };
  conv.build = [](const LayerOptions& o, const Shape& in, const LayerInit& init) {
    const std::int64_t k = whole(o, "kernel");
    const double std = init_std(init.init, in[0] * k * k, init.normal_std);
    return std::make_unique<Conv2D>(in[0], whole(o, "filters"), k, whole(o, "stride"),
                                    whole(o, "pad"), std, *init.rng, init.dtype);
  };
  registry.add(std::move(conv));
  registry.add(
      pool_kind("maxpool", "the max of each window: maxpool:SIZE[,stride=S][,pad=P]", true));
  registry.add(
      pool_kind("avgpool", "the mean of each window: avgpool:SIZE[,stride=S][,pad=P]", false));

  LayerKind bn;
  bn.name = "batchnorm";
  bn.help =
      "batch normalisation over features (D) or channels (C, H, W): batchnorm[:momentum=M,eps=E]";
  bn.options = {{"momentum", 0.9, false, 0, 1, false, "running statistics' momentum"},
                {"eps", 1e-5, false, 1e-12, 1, false, "added to the variance"}};
  bn.plan = [](const LayerOptions&, const Shape& in) {
    if (in.size() != 1 && in.size() != 3) {
      throw ValueError("batchnorm takes features (D) or images (C, H, W), not " + shape_str(in));
    }
    return LayerPlan{in,
                     {{"gamma", {in[0]}}, {"beta", {in[0]}}},
                     {{"running_mean", {in[0]}}, {"running_var", {in[0]}}}};
  };
  bn.build = [](const LayerOptions& o, const Shape& in, const LayerInit& init) {
    return std::make_unique<BatchNorm>(in[0], o.at("momentum"), o.at("eps"), init.dtype);
  };
  registry.add(std::move(bn));

  LayerKind dropout;
  dropout.name = "dropout";
  dropout.help = "zeroes each value with probability P in training (inverted): dropout:P";
  dropout.options = {{"p", 0.5, false, 0, 0.99, false, "drop probability"}};
  dropout.positional = 1;
  dropout.plan = [](const LayerOptions&, const Shape& in) { return LayerPlan{in, {}, {}}; };
  dropout.build = [](const LayerOptions& o, const Shape&, const LayerInit& init) {
    // A stream of its own, seeded from the model's: a run is reproducible from its seed.
    return std::make_unique<Dropout>(o.at("p"), init.rng->engine()());
  };
  registry.add(std::move(dropout));

  LayerKind flatten;
  flatten.name = "flatten";
  flatten.help = "(C, H, W) to C*H*W values (affine flattens by itself)";
  flatten.plan = [](const LayerOptions&, const Shape& in) {
    return LayerPlan{{values_of(in)}, {}, {}};
  };
  flatten.build = [](const LayerOptions&, const Shape&, const LayerInit&) {
    return std::make_unique<Flatten>();
  };
  registry.add(std::move(flatten));
}

}  // namespace nabla
