// The description of a model: ModelSpec (checks, JSON, shapes), the presets and
// build_model. The --arch syntax is in arch.cc.
#include "nabla/train/model_spec.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "nabla/nn/crf.h"
#include "nabla/nn/sparse_affine.h"
#include "train/json_fields.h"
#include "train/layer_kinds.h"

namespace nabla {

using json = nlohmann::json;
using json_fields::field;
using json_fields::parse;

namespace {

const char* const kWhat = "model architecture";

// The shape as the --arch syntax and describe() write it: 1x28x28.
std::string dims(const Shape& shape) {
  std::string text;
  for (std::int64_t d : shape) {
    if (!text.empty()) text += 'x';
    text += std::to_string(d);
  }
  return text;
}

// An option's value as JSON: a whole number as an integer (2, not 2.0).
json option_json(double v) {
  if (v == std::floor(v) && std::abs(v) < 9007199254740992.0) {
    return static_cast<std::int64_t>(v);
  }
  return v;
}

// What each layer of a checked spec makes of its input, and its options complete.
struct LayerStep {
  const LayerKind* kind;
  LayerOptions options;
  Shape in;
  LayerPlan plan;
};

// The layers' plans, checking each against the bounds; ValueError naming the layer.
std::vector<LayerStep> plan_layers(const ModelSpec& spec) {
  const LayerRegistry& registry = builtin_layers();
  std::vector<LayerStep> steps;
  Shape in = spec.example_shape();
  std::int64_t parameters = 0;
  const std::vector<LayerSpec> layers = spec.layer_list();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string where =
        "layer " + std::to_string(i + 1) + " (" + arch_string({layers[i]}) + "): ";
    LayerStep step;
    try {
      step.kind = &registry.at(layers[i].kind);
      step.options = step.kind->complete(layers[i].options);
      step.in = in;
      step.plan = step.kind->plan(step.options, in);
    } catch (const ValueError& e) {
      throw ValueError(where + e.what());
    }
    const std::int64_t out = values_of(step.plan.output);
    if (out > ModelSpec::kMaxActivations) {
      throw ValueError(where + "gives " + std::to_string(out) + " values an example; at most " +
                       std::to_string(ModelSpec::kMaxActivations) + " are supported");
    }
    for (const auto& [name, shape] : step.plan.parameters) {
      std::int64_t n = 1;  // (saturating: a count past int64 is over the bound anyway)
      for (std::int64_t d : shape) {
        if (!checked_mul(n, d, &n)) n = INT64_MAX;
      }
      parameters = n > INT64_MAX - parameters ? INT64_MAX : parameters + n;
    }
    in = step.plan.output;
    steps.push_back(std::move(step));
  }
  if (parameters > ModelSpec::kMaxParameters) {
    throw ValueError("model " + spec.describe() + " has " + std::to_string(parameters) +
                     " parameters; at most " + std::to_string(ModelSpec::kMaxParameters) +
                     " are supported");
  }
  if (in != Shape{spec.classes}) {
    throw ValueError("model " + spec.describe() + ": the last layer gives " + shape_str(in) +
                     " values an example, not one per class (" + std::to_string(spec.classes) +
                     ")");
  }
  return steps;
}

// Parameters or buffers by the names Sequential gives them: the k-th layer with state
// gets the suffix k (W1, b1, running_mean3).
std::vector<std::pair<std::string, Shape>> numbered(const std::vector<LayerStep>& steps,
                                                    bool buffers) {
  std::vector<std::pair<std::string, Shape>> out;
  int number = 0;
  for (const LayerStep& s : steps) {
    if (s.plan.parameters.empty() && s.plan.buffers.empty()) continue;
    ++number;
    for (const auto& [name, shape] : buffers ? s.plan.buffers : s.plan.parameters) {
      out.emplace_back(name + std::to_string(number), shape);
    }
  }
  return out;
}

bool is_preset(const std::string& kind) {
  for (const std::string& k : model_preset_names()) {
    if (k == kind) return true;
  }
  return false;
}

LayerSpec layer(const std::string& kind, LayerOptions options = {}) {
  return LayerSpec{kind, builtin_layers().at(kind).complete(options)};
}

}  // namespace

// ---- ModelSpec ------------------------------------------------------------------------

bool ModelSpec::is_mlp() const {
  return kind == "two-layer-net" || kind == "mlp" || kind == "linear";
}

Shape ModelSpec::example_shape() const { return is_mlp() ? Shape{inputs} : input_shape; }

std::vector<LayerSpec> ModelSpec::layer_list() const {
  if (!is_mlp()) return layers;
  std::vector<LayerSpec> out;
  for (std::int64_t h : hidden) {
    out.push_back({"affine", {{"out", static_cast<double>(h)}}});
    out.push_back({activation, {}});
  }
  out.push_back({"affine", {{"out", static_cast<double>(classes)}}});
  return out;
}

std::string ModelSpec::to_json() const {
  json j = {{"kind", kind},
            {"classes", classes},
            {"loss", loss},
            {"init", init_name(init)},
            {"init_std", init_std}};
  if (is_mlp()) {
    // As model files have always held it.
    j["inputs"] = inputs;
    j["hidden"] = hidden;
    j["activation"] = activation;
  } else {
    j["input_shape"] = input_shape;
    json list = json::array();
    for (const LayerSpec& l : layers) {
      json entry = {{"kind", l.kind}};
      for (const auto& [name, value] : l.options) entry[name] = option_json(value);
      list.push_back(entry);
    }
    j["layers"] = list;
  }
  return j.dump();
}

ModelSpec ModelSpec::from_json(const std::string& text) {
  json j = parse(text, kWhat);
  ModelSpec s;
  s.kind = field<std::string>(j, "kind", kWhat);
  s.classes = field<std::int64_t>(j, "classes", kWhat);
  if (s.is_mlp()) {
    s.inputs = field<std::int64_t>(j, "inputs", kWhat);
    s.hidden = field<std::vector<std::int64_t>>(j, "hidden", kWhat);
    s.activation = field<std::string>(j, "activation", kWhat);
  } else {
    s.hidden = {};
    s.input_shape = field<std::vector<std::int64_t>>(j, "input_shape", kWhat);
    s.inputs = 1;
    for (std::int64_t d : s.input_shape) {
      if (d < 1 || d > kMaxActivations || !checked_mul(s.inputs, d, &s.inputs)) s.inputs = 0;
    }
    if (!j.contains("layers") || !j.at("layers").is_array()) {
      throw ValueError(std::string(kWhat) + ": missing field 'layers'");
    }
    if (j.at("layers").size() > kMaxLayers) {
      throw ValueError(std::string(kWhat) + ": " + std::to_string(j.at("layers").size()) +
                       " layers; at most " + std::to_string(kMaxLayers) + " are supported");
    }
    for (const json& entry : j.at("layers")) {
      const std::string where =
          std::string(kWhat) + ": layer " + std::to_string(s.layers.size() + 1);
      LayerSpec l;
      l.kind = field<std::string>(entry, "kind", where.c_str());
      for (const auto& [name, value] : entry.items()) {
        if (name == "kind") continue;
        if (!value.is_number()) {
          throw ValueError(where + ": option '" + name + "' is not a number");
        }
        l.options[name] = value.get<double>();
      }
      s.layers.push_back(std::move(l));
    }
  }
  s.loss = field<std::string>(j, "loss", kWhat);
  s.init = parse_init(field<std::string>(j, "init", kWhat));
  s.init_std = field<double>(j, "init_std", kWhat);
  return s;
}

std::string ModelSpec::describe() const {
  std::string text = kind;
  text += ' ';
  if (is_mlp()) {
    text += std::to_string(inputs);
    for (std::int64_t h : hidden) {
      text += '-';
      text += std::to_string(h);
    }
    text += '-';
    text += std::to_string(classes);
    if (!hidden.empty()) {
      text += ' ';
      text += activation;
    }
  } else {
    text += dims(input_shape) + ": " + arch_string(layers);
  }
  return text + ", " + loss + " loss";
}

void ModelSpec::check() const {
  if (kind == "two-layer-net" && (hidden.size() != 1 || activation != "relu")) {
    throw ValueError("model two-layer-net has one ReLU hidden layer; use mlp for others");
  }
  if (kind == "linear" && !hidden.empty()) throw ValueError("model linear has no hidden layers");
  if (!is_preset(kind) && kind != "arch" && kind != "window-tagger") {
    std::string names;
    for (const std::string& k : model_preset_names()) names += k + ", ";
    throw ValueError("model '" + kind + "' is not one of " + names + "arch, window-tagger");
  }
  // (a classifier needs two classes; a regression, one output)
  if (inputs < 1 || classes < (loss == "mse" ? 1 : 2)) {
    throw ValueError(loss == "mse" ? "model needs at least 1 input and 1 output"
                                   : "model needs at least 1 input and 2 classes");
  }
  if (inputs > kMaxWidth || classes > kMaxWidth) {
    throw ValueError("model: " + std::to_string(inputs) + " inputs and " + std::to_string(classes) +
                     " classes; at most " + std::to_string(kMaxWidth) + " of each are supported");
  }
  if (is_mlp()) {
    if (hidden.size() > kMaxHiddenLayers) {
      throw ValueError("model: " + std::to_string(hidden.size()) + " hidden layers; at most " +
                       std::to_string(kMaxHiddenLayers) + " are supported");
    }
    for (std::int64_t h : hidden) {
      if (h < 1) throw ValueError("hidden layer size " + std::to_string(h) + " must be positive");
      if (h > kMaxWidth) {
        throw ValueError("hidden layer size " + std::to_string(h) + " is over the limit of " +
                         std::to_string(kMaxWidth));
      }
    }
    if (activation != "relu" && activation != "sigmoid" && activation != "tanh") {
      throw ValueError("activation '" + activation + "' is not one of relu, sigmoid, tanh");
    }
  } else {
    if (input_shape.empty() || input_shape.size() > 3) {
      throw ValueError("model " + kind + ": the input shape " + shape_str(input_shape) +
                       " must have 1 to 3 dimensions (features, or channels, height, width)");
    }
    std::int64_t n = 1;
    for (std::int64_t d : input_shape) {
      if (d < 1 || d > kMaxWidth || !checked_mul(n, d, &n) || n > kMaxWidth) {
        throw ValueError("model " + kind + ": the input shape " + shape_str(input_shape) +
                         " is empty or has over " + std::to_string(kMaxWidth) + " values");
      }
    }
    if (n != inputs) {
      throw ValueError("model " + kind + ": inputs " + std::to_string(inputs) +
                       " is not the input shape's " + std::to_string(n) + " values");
    }
    if (layers.empty() || layers.size() > kMaxLayers) {
      throw ValueError("model " + kind + " has " + std::to_string(layers.size()) +
                       " layers; from 1 to " + std::to_string(kMaxLayers) + " are supported");
    }
  }
  if (loss != "softmax" && loss != "svm" && loss != "mse" && loss != "crf") {
    throw ValueError("loss '" + loss + "' is not one of softmax, svm, mse, crf");
  }
  // (the sentence-level loss reads the transition scores that layer appends)
  const bool transitions_last = !layers.empty() && layers.back().kind == "tag_transitions";
  if ((loss == "crf") != transitions_last) {
    throw ValueError("model " + kind + ": the crf loss goes with a last layer tag_transitions, "
                     "and that layer with the crf loss only");
  }
  if (!(init_std > 0) || !std::isfinite(init_std)) {
    throw ValueError("init_std must be a positive finite number");
  }
  plan_layers(*this);  // every layer fits its input; the parameters are within bounds
}

std::vector<std::pair<std::string, Shape>> ModelSpec::parameter_shapes() const {
  check();
  return numbered(plan_layers(*this), false);
}

std::vector<std::pair<std::string, Shape>> ModelSpec::buffer_shapes() const {
  check();
  return numbered(plan_layers(*this), true);
}

// ---- presets --------------------------------------------------------------------------

const std::vector<std::string>& model_preset_names() {
  static const std::vector<std::string> names = {"two-layer-net", "mlp", "linear", "simple-convnet",
                                                 "deep-convnet"};
  return names;
}

ModelSpec model_preset(const std::string& kind, const Shape& input_shape, std::int64_t classes) {
  ModelSpec s;
  s.kind = kind;
  s.classes = classes;
  s.loss = classes == 1 ? "mse" : "softmax";  // (one output: a regression's)
  std::int64_t values = 1;
  for (std::int64_t d : input_shape) {
    if (d < 1 || !checked_mul(values, d, &values)) values = 0;
  }
  if (s.is_mlp()) {
    s.inputs = values;
    s.hidden = kind == "two-layer-net" ? std::vector<std::int64_t>{50}
               : kind == "mlp"         ? std::vector<std::int64_t>{100, 100}
                                       : std::vector<std::int64_t>{};
    s.check();
    return s;
  }
  if (!is_preset(kind)) s.check();  // names the valid kinds
  if (input_shape.size() != 3) {
    throw ValueError("model " + kind + " takes images (channels, height, width), not examples of " +
                     shape_str(input_shape));
  }
  s.inputs = values;
  s.input_shape = input_shape;
  s.hidden = {};
  const auto conv = [](double filters, double kernel, double pad) {
    return layer("conv", {{"filters", filters}, {"kernel", kernel}, {"pad", pad}});
  };
  const LayerSpec relu = layer("relu"), pool = layer("maxpool", {{"size", 2}});
  const auto affine = [](double out) { return layer("affine", {{"out", out}}); };
  const auto n = static_cast<double>(classes);
  if (kind == "simple-convnet") {
    s.layers = {conv(30, 5, 0), relu, pool, affine(100), relu, affine(n)};
    s.init = Init::normal;
    s.init_std = 0.01;
  } else {  // deep-convnet: the textbook's, whose fourth convolution pads by 2 (14 -> 16)
    s.layers = {conv(16, 3, 1), relu,
                conv(16, 3, 1), relu,
                pool,           conv(32, 3, 1),
                relu,           conv(32, 3, 2),
                relu,           pool,
                conv(64, 3, 1), relu,
                conv(64, 3, 1), relu,
                pool,           affine(50),
                relu,           layer("dropout", {{"p", 0.5}}),
                affine(n),      layer("dropout", {{"p", 0.5}})};
    s.init = Init::he;
  }
  s.check();
  return s;
}

// ---- build_model ----------------------------------------------------------------------

Sequential build_model(const ModelSpec& spec, Rng& rng, DType dtype) {
  spec.check();
  const std::vector<LayerStep> steps = plan_layers(spec);
  const LayerInit init{spec.init, spec.init_std, &rng, dtype};
  Sequential net;
  for (const LayerStep& s : steps) {
    const bool first = net.size() == 0;
    if (first && s.kind->name == "affine" && s.in.size() == 1 && dtype == DType::f32) {
      // The fast path for pixel rows: an affine layer that also takes them sparse.
      const std::int64_t out = whole(s.options, "out");
      Tensor W = init_weight(spec.init, s.in[0], out, rng, spec.init_std, dtype);
      net.add(std::make_unique<SparseAffine>(std::move(W), Tensor({out}, dtype)));
      continue;
    }
    std::unique_ptr<Layer> layer = s.kind->build(s.options, s.in, init);
    if (first) layer->set_input_grad(false);  // its input is data
    net.add(std::move(layer));
  }
  if (spec.loss == "softmax") {
    net.set_loss(std::make_unique<SoftmaxWithLoss>());
  } else if (spec.loss == "mse") {
    net.set_loss(std::make_unique<MeanSquaredLoss>());
  } else if (spec.loss == "crf") {
    net.set_loss(std::make_unique<CrfLoss>());
  } else {
    net.set_loss(std::make_unique<SvmLoss>(1.0));
  }
  return net;
}

}  // namespace nabla
