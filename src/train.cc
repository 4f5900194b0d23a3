#include "nabla/train.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <type_traits>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "nabla/ops.h"
#include "nabla/safetensors.h"

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

// The optimizer keeps its state by position ("m.0"); a checkpoint stores it by the
// parameter's name ("m.W1"). "step" stays as it is.
std::string optimizer_key_by_name(const std::string& key, const std::vector<std::string>& names) {
  const std::size_t dot = key.find('.');
  if (dot == std::string::npos) return key;
  const std::size_t i = std::stoul(key.substr(dot + 1));
  return key.substr(0, dot + 1) + names.at(i);
}

// The reverse. A position ("m.0", as files written before names were used) stays as it is.
std::string optimizer_key_by_position(const std::string& key,
                                      const std::vector<std::string>& names) {
  const std::size_t dot = key.find('.');
  if (dot == std::string::npos) return key;
  const std::string name = key.substr(dot + 1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return key.substr(0, dot + 1) + std::to_string(i);
  }
  return key;  // a position, or unknown: load_state names it
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

// ---- evaluation -----------------------------------------------------------------------

double evaluate_accuracy(Sequential& net, const Dataset& data, std::int64_t block) {
  if (data.size == 0) return 0;
  std::int64_t correct = 0;
  DType dtype = net.parameters().front().dtype();
  std::vector<std::int64_t> labels;
  for (std::int64_t begin = 0; begin < data.size; begin += block) {
    std::int64_t count = std::min(block, data.size - begin);
    Tensor x = images_as_tensor(data, begin, count, dtype);
    labels.assign(data.labels.begin() + begin, data.labels.begin() + begin + count);
    correct += count_correct(net.predict(x), labels, "evaluate_accuracy");
  }
  return static_cast<double>(correct) / static_cast<double>(data.size);
}

double evaluate_accuracy(Sequential& net, const SparsePixels& pixels, const ByteBuffer& labels,
                         std::int64_t block) {
  const std::int64_t n = pixels.rows();
  if (n == 0) return 0;
  std::int64_t correct = 0;
  SparseBatch batch{&pixels, {}};
  std::vector<std::int64_t> block_labels;
  for (std::int64_t begin = 0; begin < n; begin += block) {
    std::int64_t count = std::min(block, n - begin);
    batch.rows.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) batch.rows[static_cast<std::size_t>(i)] = begin + i;
    block_labels.assign(labels.begin() + begin, labels.begin() + begin + count);
    correct += count_correct(net.predict(batch), block_labels, "evaluate_accuracy");
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

// ---- Trainer --------------------------------------------------------------------------

Trainer::Trainer(TrainConfig config, SparseMnist data)
    : Trainer(std::move(config), std::make_shared<const SparseMnist>(std::move(data)), true) {}

Trainer::Trainer(TrainConfig config, const Mnist& data)
    : Trainer(std::move(config), SparseMnist::from(data)) {}

Trainer::Trainer(TrainConfig config, std::shared_ptr<const SparseMnist> data, bool initialise)
    : config_(std::move(config)),
      data_(std::move(data)),
      rng_(config_.seed),
      sampler_(data_->train_images.rows(), config_.batch, config_.sampling) {
  const std::int64_t train_size = data_->train_images.rows();
  if (config_.batch < 1 || config_.batch > train_size) {
    throw ValueError("batch size " + std::to_string(config_.batch) + " must be in [1, " +
                     std::to_string(train_size) + "]");
  }
  if (!(config_.lr > 0) || !std::isfinite(config_.lr)) {
    throw ValueError("learning rate must be a positive number");
  }
  if (!(config_.reg >= 0) || !std::isfinite(config_.reg)) {
    throw ValueError("regularization strength must be a finite number, not negative");
  }
  if (config_.model.inputs != data_->train_images.cols() ||
      config_.model.classes != data_->classes) {
    throw ValueError("model " + config_.model.describe() + " does not fit the data (" +
                     std::to_string(data_->train_images.cols()) + " features, " +
                     std::to_string(data_->classes) + " classes)");
  }
  // The textbook: iter_per_epoch = max(train_size / batch_size, 1).
  per_epoch_ = std::max<std::int64_t>(train_size / config_.batch, 1);
  total_iters_ = config_.iters;
  if (config_.epochs > 0 && !checked_mul(config_.epochs, per_epoch_, &total_iters_)) {
    throw ValueError(std::to_string(config_.epochs) + " epochs of " + std::to_string(per_epoch_) +
                     " iterations are more iterations than can be counted");
  }
  if (total_iters_ < 0) throw ValueError("the number of iterations must not be negative");
  if (initialise) net_ = build_model(config_.model, rng_, DType::f32);
  bind_parameters();
  optimizer_ = make_optimizer(config_.optimizer, config_.lr, config_.weight_decay);
}

void Trainer::bind_parameters() {
  params_.clear();
  param_names_.clear();
  for (auto& [name, p] : net_.named_parameters()) {
    param_names_.push_back(name);
    params_.push_back(p);
  }
  penalised_.clear();
  for (const Var& p : params_) penalised_.push_back(p.value().rank() == 2);
}

void Trainer::set_threads(int threads) {
  prefetch_ = threads > 1;
  prefetcher_.reset();
  net_.set_threads(threads);
}

double Trainer::step() {
  const bool ahead = prefetch_ && iteration_ < total_iters_;  // (steps past the plan: none)
  if (ahead && prefetcher_ == nullptr) {
    prefetcher_ = std::make_unique<BatchPrefetcher>(data_->train_images, data_->train_labels,
                                                    sampler_, rng_, total_iters_ - iteration_);
  }
  // The batch straight from the uint8 images: row indices into the sparse pixels. (Drawn
  // here also when the prefetcher drew it, for the state that checkpoints save.)
  sampler_.next(rng_, batch_.rows);
  for (Var& p : params_) {
    if (p.has_grad()) p.grad().fill(0.0);
  }
  double loss = 0;
  if (ahead) {
    const PreparedBatch& ready = prefetcher_->next();
    if (ready.drawn != batch_.rows) {
      throw std::logic_error("Trainer: the prefetched batch is not the one drawn");
    }
    loss = net_.gradient(ready.batch, ready.labels);
  } else {
    // Rows picked at random are first copied together: their cache misses then overlap,
    // and the products find them in the cache.
    staged_pixels_.assign_rows(data_->train_images, batch_.rows);
    staged_.pixels = &staged_pixels_;
    staged_.rows.resize(batch_.rows.size());
    std::iota(staged_.rows.begin(), staged_.rows.end(), 0);
    labels_.resize(batch_.rows.size());
    for (std::size_t i = 0; i < batch_.rows.size(); ++i) {
      labels_[i] = data_->train_labels[static_cast<std::size_t>(batch_.rows[i])];
    }
    loss = net_.gradient(staged_, labels_);
  }
  const double data_loss = loss;
  double penalty = 0;
  if (config_.reg > 0) {
    // L = data loss + reg * sum(W^2), so dL/dW gains 2 * reg * W.
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!penalised_[i]) continue;
      Tensor& w = params_[i].value();
      Tensor& g = params_[i].grad();
      visit_dtype(w.dtype(), [&](auto type) {
        using T = decltype(type);
        const T* pw = w.data<T>();
        T* pg = g.data<T>();
        double squares = 0;
        for (std::int64_t k = 0; k < w.numel(); ++k) {
          squares += static_cast<double>(pw[k]) * static_cast<double>(pw[k]);
          pg[k] += static_cast<T>(2 * config_.reg) * pw[k];
        }
        loss += config_.reg * squares;  // (summed as before: the same loss to the last bit)
        penalty += config_.reg * squares;
      });
    }
  }
  if (!std::isfinite(loss)) {
    diverged(std::string("the loss is ") + (std::isnan(loss) ? "NaN" : "infinite"), data_loss,
             penalty);
  }
  if (!stepped_) {
    first_loss_ = loss;
    stepped_ = true;
  } else if (loss > kDivergence * std::max(std::abs(first_loss_), 1.0)) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "the loss diverged: %g is over %g times its first value %g (at least 1)", loss,
                  kDivergence, first_loss_);
    diverged(text, data_loss, penalty);
  }
  optimizer_->step(params_);
  ++iteration_;
  last_loss_ = loss;
  if (eval_due() || done()) {
    std::string bad = non_finite_parameter();
    if (!bad.empty()) {
      throw TrainingError("iteration " + std::to_string(iteration_ - 1) + ": parameter " + bad +
                          " holds values that are not finite after the update; training stopped");
    }
  }
  return loss;
}

std::string Trainer::non_finite_parameter() const {
  for (const Var& p : params_) {
    bool finite = true;
    visit_dtype(p.value().dtype(), [&](auto type) {
      using T = decltype(type);
      const T* v = p.value().data<T>();
      for (std::int64_t k = 0; k < p.value().numel() && finite; ++k) finite = std::isfinite(v[k]);
    });
    if (!finite) return p.name();
  }
  return "";
}

void Trainer::diverged(const std::string& what, double data_loss, double penalty) const {
  char text[256];
  std::string message = "iteration " + std::to_string(iteration_) + ": " + what;
  if (config_.reg > 0) {
    std::snprintf(text, sizeof text, " (data loss %g, L2 penalty %g with reg %g)", data_loss,
                  penalty, config_.reg);
    message += text;
  }
  message += "; training stopped. ";
  std::string bad = non_finite_parameter();
  if (!stepped_) {
    // No update of this run came before: the cause is in the starting point, not the steps.
    message += "This is the run's first step, before any update; ";
    message += bad.empty() ? "the parameters are finite"
                           : "parameter " + bad + " holds values that are not finite";
    if (config_.model.init == Init::normal) {
      std::snprintf(text, sizeof text, " (init std %g)", config_.model.init_std);
      message += text;
    }
  } else {
    // The previous step's loss was finite and in range: the last updates made it diverge.
    std::snprintf(text, sizeof text,
                  "The loss was %g at the previous iteration and %g at this run's first; ",
                  last_loss_, first_loss_);
    message += text;
    if (!bad.empty()) message += "parameter " + bad + " holds values that are not finite; ";
    std::snprintf(text, sizeof text, "%g", config_.lr);
    message += std::string("the updates diverged. Try a lower learning rate (now ") + text + ")";
  }
  throw TrainingError(message);
}

namespace {

Evaluation evaluate_model(Sequential& net, std::int64_t iteration, const SparsePixels& train,
                          const ByteBuffer& train_labels, const SparsePixels& test,
                          const ByteBuffer& test_labels) {
  const auto start = std::chrono::steady_clock::now();
  Evaluation e{iteration, evaluate_accuracy(net, train, train_labels),
               evaluate_accuracy(net, test, test_labels)};
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

}  // namespace

Evaluation Trainer::evaluate() {
  return evaluate_model(net_, iteration_, data_->train_images, data_->train_labels,
                        data_->test_images, data_->test_labels);
}

namespace {

// Lowers the calling thread's priority to the least (nice 19), so that the threads
// training needs at once (the prefetcher's, when it wakes) take the core from it at
// once instead of waiting out its time slice. A thread's own nice value on Linux; where
// that is not available, nothing.
void give_way_to_training() {
#if defined(__linux__)
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  (void)setpriority(PRIO_PROCESS, tid, 19);  // (not being able to is harmless)
#endif
}

}  // namespace

std::future<Evaluation> Trainer::evaluate_in_background() const {
  // A copy of the model: parameters and buffers of its own, taken now (one thread).
  std::shared_ptr<Sequential> copy = clone_of(net_);
  return std::async(std::launch::async, [copy, data = data_, iteration = iteration_] {
    give_way_to_training();
    return evaluate_model(*copy, iteration, data->train_images, data->train_labels,
                          data->test_images, data->test_labels);
  });
}

void Trainer::save(const std::string& path, Flush flush) const {
  // The model's parameters and buffers by name, then the optimizer's state by the same
  // names: "optimizer.<slot>.<parameter>" (optimizer.m.W1) and "optimizer.step".
  std::vector<std::pair<std::string, Tensor>> tensors = state_dict(net_);
  for (auto& [key, t] : optimizer_->state()) {
    tensors.emplace_back("optimizer." + optimizer_key_by_name(key, param_names_), t);
  }
  std::map<std::string, std::string> meta = {
      {"format", "nabla-model-1"},
      {"model", config_.model.to_json()},
      {"train", config_.to_json()},
      {"iteration", std::to_string(iteration_)},
      {"total_iters", std::to_string(total_iters_)},
      {"rng", rng_.state()},
      {"sampler", sampler_.state()},
  };
  save_safetensors(path, tensors, meta, flush);
}

namespace {

// Copies the file's parameters and buffers into net, checking names and shapes.
void load_state(const std::string& path, const SafetensorsFile& file, Sequential& net,
                const ModelSpec& spec) {
  auto load = [&](const NamedVars& targets, const char* what) {
    for (auto [name, target] : targets) {
      const Tensor* found = nullptr;
      for (const auto& [key, t] : file.tensors) {
        if (key == name) found = &t;
      }
      if (found == nullptr) {
        throw DataError(path + ": " + what + " " + name + " of " + spec.describe() + " is missing");
      }
      if (found->shape() != target.shape()) {
        throw DataError(path + ": " + what + " " + name + " has shape " +
                        shape_str(found->shape()) + ", the architecture " + spec.describe() +
                        " expects " + shape_str(target.shape()));
      }
      target.value() = found->to(target.dtype());
    }
  };
  load(net.named_parameters(), "parameter");
  load(net.named_buffers(), "buffer");
}

std::string meta_at(const std::string& path, const SafetensorsFile& file, const char* key) {
  auto it = file.metadata.find(key);
  if (it == file.metadata.end()) {
    throw DataError(path + ": not a nabla model file (metadata '" + key + "' missing)");
  }
  return it->second;
}

// Checks the file's architecture against its tensors before anything is built from it:
// a few bytes of metadata must not make the reader allocate and initialise gigabytes.
LoadedModel load_model_from(const std::string& path, const SafetensorsFile& file) {
  if (meta_at(path, file, "format") != "nabla-model-1") {
    throw DataError(path + ": unknown model format '" + meta_at(path, file, "format") + "'");
  }
  LoadedModel m;
  std::vector<std::pair<std::string, Shape>> shapes;
  try {
    m.spec = ModelSpec::from_json(meta_at(path, file, "model"));
    shapes = m.spec.parameter_shapes();
  } catch (const ValueError& e) {
    throw DataError(path + ": " + e.what());
  }
  for (const auto& [name, shape] : shapes) {
    const Tensor* found = nullptr;
    for (const auto& [file_name, t] : file.tensors) {
      if (file_name == name) found = &t;
    }
    if (found == nullptr) {
      throw DataError(path + ": parameter " + name + " of " + m.spec.describe() + " is missing");
    }
    if (found->shape() != shape) {
      throw DataError(path + ": parameter " + name + " has shape " + shape_str(found->shape()) +
                      ", the architecture " + m.spec.describe() + " expects " + shape_str(shape));
    }
  }
  Rng rng(0);
  m.net = build_model(m.spec, rng, DType::f32);  // (no larger than the file's tensors)
  load_state(path, file, m.net, m.spec);  // (buffers too)
  m.metadata = file.metadata;
  return m;
}

// A count stored as decimal text: digits only, fitting int64.
std::int64_t count_at(const std::string& path, const SafetensorsFile& file, const char* key) {
  std::string text = meta_at(path, file, key);
  std::int64_t value = 0;
  bool ok = !text.empty() && text.size() <= 19;
  for (char ch : text) ok = ok && ch >= '0' && ch <= '9';
  if (ok) {
    std::size_t used = 0;
    try {
      value = std::stoll(text, &used);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok) {
    throw DataError(path + ": metadata '" + key + "' is not a count of iterations: '" + text + "'");
  }
  return value;
}

}  // namespace

LoadedModel load_model(const std::string& path) {
  return load_model_from(path, load_safetensors(path));
}

void Trainer::set_total_iters(std::int64_t total) {
  if (total < 0) throw ValueError("the number of iterations must not be negative");
  total_iters_ = total;
  prefetcher_.reset();  // made again for the new count
}

Trainer Trainer::resume(const std::string& checkpoint, const Mnist& data,
                        std::int64_t total_iters) {
  return resume(checkpoint, SparseMnist::from(data), total_iters);
}

Trainer Trainer::resume(const std::string& checkpoint, SparseMnist data, std::int64_t total_iters) {
  SafetensorsFile file = load_safetensors(checkpoint);
  LoadedModel loaded = load_model_from(checkpoint, file);
  TrainConfig config;
  try {
    config = TrainConfig::from_json(meta_at(checkpoint, file, "train"));
  } catch (const ValueError& e) {
    throw DataError(checkpoint + ": " + e.what());
  }
  config.model = loaded.spec;  // (checked against the tensors; the parameters are of it)
  Trainer t(config, std::make_shared<const SparseMnist>(std::move(data)), false);
  t.net_ = std::move(loaded.net);
  t.bind_parameters();
  try {
    t.iteration_ = count_at(checkpoint, file, "iteration");
    t.total_iters_ = total_iters > 0 ? total_iters : count_at(checkpoint, file, "total_iters");
    t.rng_.restore(meta_at(checkpoint, file, "rng"));
    t.sampler_.restore(meta_at(checkpoint, file, "sampler"));
    std::vector<std::pair<std::string, Tensor>> state;
    for (const auto& [name, tensor] : file.tensors) {
      if (name.rfind("optimizer.", 0) == 0) {
        state.emplace_back(optimizer_key_by_position(name.substr(10), t.param_names_), tensor);
      }
    }
    if (!state.empty()) t.optimizer_->load_state(state);
  } catch (const std::logic_error& e) {  // ValueError
    throw DataError(checkpoint + ": cannot resume: " + e.what());
  }
  return t;
}

}  // namespace nabla
