// The descriptions of a model and of a training run: ModelSpec, TrainConfig (JSON), and
// build_model.
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "nabla/sparse_affine.h"
#include "nabla/train.h"

namespace nabla {

using json = nlohmann::json;

namespace {

// An integer JSON number that fits T: a fraction, a float (1e300) or an integer out of
// T's range is refused (their conversion would be undefined).
template <class T>
bool fits(const json& v) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) {
    return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  }
  return std::is_signed_v<T> || v.get<std::int64_t>() >= 0;
}

template <class T>
T value_of(const json& v, const char* key, const char* what) {
  if constexpr (std::is_integral_v<T>) {
    if (!v.is_number()) {
      throw ValueError(std::string(what) + ": field '" + key + "' has the wrong type");
    }
    if (!fits<T>(v)) {
      throw ValueError(std::string(what) + ": field '" + key + "' must be an integer from " +
                       std::to_string(std::numeric_limits<T>::min()) + " to " +
                       std::to_string(std::numeric_limits<T>::max()) + ", not " + v.dump());
    }
    return v.get<T>();
  } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
    if (!v.is_array()) {
      throw ValueError(std::string(what) + ": field '" + key + "' has the wrong type");
    }
    T out;
    for (const json& e : v) out.push_back(value_of<std::int64_t>(e, key, what));
    return out;
  } else {
    try {
      return v.get<T>();
    } catch (const json::exception&) {
      throw ValueError(std::string(what) + ": field '" + key + "' has the wrong type");
    }
  }
}

// Reads field `key` of `j`, naming it when it is missing or of the wrong type.
template <class T>
T field(const json& j, const char* key, const char* what) {
  if (!j.is_object() || !j.contains(key)) {
    throw ValueError(std::string(what) + ": missing field '" + key + "'");
  }
  return value_of<T>(j.at(key), key, what);
}

json parse(const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, out_of_range (a number too large)
    throw ValueError(std::string(what) + ": not valid JSON (" + e.what() + ")");
  }
}

Sampling parse_sampling(const std::string& name) {
  if (name == sampling_name(Sampling::with_replacement)) return Sampling::with_replacement;
  if (name == sampling_name(Sampling::shuffled_epochs)) return Sampling::shuffled_epochs;
  throw ValueError("sampling '" + name + "' is not one of " +
                   sampling_name(Sampling::with_replacement) + ", " +
                   sampling_name(Sampling::shuffled_epochs));
}

std::unique_ptr<Layer> make_activation(const std::string& name) {
  if (name == "relu") return std::make_unique<Relu>();
  if (name == "sigmoid") return std::make_unique<Sigmoid>();
  if (name == "tanh") return std::make_unique<Tanh>();
  throw ValueError("activation '" + name + "' is not one of relu, sigmoid, tanh");
}

}  // namespace

// ---- ModelSpec ------------------------------------------------------------------------

std::string ModelSpec::to_json() const {
  json j = {{"kind", kind},
            {"inputs", inputs},
            {"classes", classes},
            {"hidden", hidden},
            {"activation", activation},
            {"loss", loss},
            {"init", init_name(init)},
            {"init_std", init_std}};
  return j.dump();
}

ModelSpec ModelSpec::from_json(const std::string& text) {
  const char* what = "model architecture";
  json j = parse(text, what);
  ModelSpec s;
  s.kind = field<std::string>(j, "kind", what);
  s.inputs = field<std::int64_t>(j, "inputs", what);
  s.classes = field<std::int64_t>(j, "classes", what);
  s.hidden = field<std::vector<std::int64_t>>(j, "hidden", what);
  s.activation = field<std::string>(j, "activation", what);
  s.loss = field<std::string>(j, "loss", what);
  s.init = parse_init(field<std::string>(j, "init", what));
  s.init_std = field<double>(j, "init_std", what);
  return s;
}

std::string ModelSpec::describe() const {
  std::string text = kind;
  text += ' ';
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
  text += ", ";
  text += loss;
  text += " loss";
  return text;
}

void ModelSpec::check() const {
  if (kind == "two-layer-net" && (hidden.size() != 1 || activation != "relu")) {
    throw ValueError("model two-layer-net has one ReLU hidden layer; use mlp for others");
  }
  if (kind == "linear" && !hidden.empty()) throw ValueError("model linear has no hidden layers");
  if (kind != "two-layer-net" && kind != "mlp" && kind != "linear") {
    throw ValueError("model '" + kind + "' is not one of two-layer-net, mlp, linear");
  }
  if (inputs < 1 || classes < 2) throw ValueError("model needs at least 1 input and 2 classes");
  if (inputs > kMaxWidth || classes > kMaxWidth) {
    throw ValueError("model: " + std::to_string(inputs) + " inputs and " + std::to_string(classes) +
                     " classes; at most " + std::to_string(kMaxWidth) + " of each are supported");
  }
  if (hidden.size() > kMaxHiddenLayers) {
    throw ValueError("model: " + std::to_string(hidden.size()) + " hidden layers; at most " +
                     std::to_string(kMaxHiddenLayers) + " are supported");
  }
  std::int64_t parameters = 0, fan_in = inputs;
  for (std::int64_t h : hidden) {
    if (h < 1) throw ValueError("hidden layer size " + std::to_string(h) + " must be positive");
    if (h > kMaxWidth) {
      throw ValueError("hidden layer size " + std::to_string(h) + " is over the limit of " +
                       std::to_string(kMaxWidth));
    }
    parameters += (fan_in + 1) * h;  // (each term < 2^41, at most 65 terms: no overflow)
    fan_in = h;
  }
  parameters += (fan_in + 1) * classes;
  if (parameters > kMaxParameters) {
    throw ValueError("model " + describe() + " has " + std::to_string(parameters) +
                     " parameters; at most " + std::to_string(kMaxParameters) + " are supported");
  }
  if (activation != "relu" && activation != "sigmoid" && activation != "tanh") {
    throw ValueError("activation '" + activation + "' is not one of relu, sigmoid, tanh");
  }
  if (loss != "softmax" && loss != "svm") {
    throw ValueError("loss '" + loss + "' is not one of softmax, svm");
  }
  if (!(init_std > 0) || !std::isfinite(init_std)) {
    throw ValueError("init_std must be a positive finite number");
  }
}

std::vector<std::pair<std::string, Shape>> ModelSpec::parameter_shapes() const {
  check();
  std::vector<std::pair<std::string, Shape>> shapes;
  std::int64_t fan_in = inputs;
  auto layer = [&](std::int64_t out) {
    std::string n = std::to_string(shapes.size() / 2 + 1);
    shapes.emplace_back("W" + n, Shape{fan_in, out});
    shapes.emplace_back("b" + n, Shape{out});
    fan_in = out;
  };
  for (std::int64_t h : hidden) layer(h);
  layer(classes);
  return shapes;
}

Sequential build_model(const ModelSpec& spec, Rng& rng, DType dtype) {
  spec.check();
  Sequential net;
  std::int64_t fan_in = spec.inputs;
  // An affine layer; the first one, in float32, also takes sparse pixel rows.
  auto add_affine = [&](std::int64_t out) {
    Tensor W = init_weight(spec.init, fan_in, out, rng, spec.init_std, dtype);
    Tensor b({out}, dtype);
    if (net.size() == 0 && dtype == DType::f32) {
      net.add(std::make_unique<SparseAffine>(std::move(W), std::move(b)));
    } else {
      net.emplace<Affine>(std::move(W), std::move(b));
    }
    fan_in = out;
  };
  for (std::int64_t h : spec.hidden) {
    add_affine(h);
    net.add(make_activation(spec.activation));
  }
  add_affine(spec.classes);
  if (spec.loss == "softmax") {
    net.set_loss(std::make_unique<SoftmaxWithLoss>());
  } else {
    net.set_loss(std::make_unique<SvmLoss>(1.0));
  }
  return net;
}

// ---- TrainConfig ----------------------------------------------------------------------

std::string TrainConfig::to_json() const {
  json j = {{"iters", iters},
            {"epochs", epochs},
            {"batch", batch},
            {"lr", lr},
            {"optimizer", optimizer},
            {"weight_decay", weight_decay},
            {"reg", reg},
            {"seed", seed},
            {"sampling", sampling_name(sampling)},
            {"model", json::parse(model.to_json())}};
  return j.dump();
}

TrainConfig TrainConfig::from_json(const std::string& text) {
  const char* what = "training options";
  json j = parse(text, what);
  TrainConfig c;
  c.iters = field<std::int64_t>(j, "iters", what);
  c.epochs = field<std::int64_t>(j, "epochs", what);
  c.batch = field<std::int64_t>(j, "batch", what);
  c.lr = field<double>(j, "lr", what);
  c.optimizer = field<std::string>(j, "optimizer", what);
  c.weight_decay = field<double>(j, "weight_decay", what);
  c.reg = field<double>(j, "reg", what);
  c.seed = field<std::uint64_t>(j, "seed", what);
  c.sampling = parse_sampling(field<std::string>(j, "sampling", what));
  if (!j.contains("model")) throw ValueError("training options: missing field 'model'");
  c.model = ModelSpec::from_json(j.at("model").dump());
  return c;
}

}  // namespace nabla
