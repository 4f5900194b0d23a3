// Checkpoints: Trainer::save, load_model and Trainer::resume (parameters and buffers by
// name, the optimizer's state by the same names, and the run's position).
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "nabla/core/cpu.h"
#include "nabla/core/safetensors.h"
#include "nabla/ops/ops.h"
#include "nabla/train/train.h"

namespace nabla {

void Trainer::save(const std::string& path, Flush flush) const {
  // The model's parameters and buffers by name, then the optimizer's state by the same
  // names: "optimizer.<slot>.<parameter>" (optimizer.m.W1) and "optimizer.step".
  std::vector<std::pair<std::string, Tensor>> tensors = state_dict(net_);
  for (auto& [key, t] : optimizer_->state(param_names_)) {
    tensors.emplace_back("optimizer." + key, t);
  }
  std::map<std::string, std::string> meta = {
      {"format", "nabla-model-1"},
      {"model", config_.model.to_json()},
      {"train", config_.to_json()},
      {"iteration", std::to_string(iteration_)},
      {"total_iters", std::to_string(total_iters_)},
      {"rng", rng_.state()},
      {"sampler", sampler_.state()},
      {"isa", kernel_isa()},  // the kernels' level: resuming bit for bit needs the same
  };
  // A plateau schedule's state: the validation evaluations it has seen.
  if (schedule_follows_validation()) meta["plateau"] = plateau_.state();
  // The augmentation's random stream.
  if (augment_.any()) meta["augment_rng"] = augment_rng_.state();
  // What the model needs beside its tensors to be used without the data (a tagger's
  // vocabulary and tags): the data's own keys.
  for (auto& [key, value] : data_->model_metadata()) meta.emplace(key, value);
  // The model's random streams (a dropout's), by name: {"layer18.rng": "<state>"}.
  // (named_rngs has no const form; reading a state changes nothing.)
  nlohmann::json rngs = nlohmann::json::object();
  for (const auto& [name, rng] : const_cast<Sequential&>(net_).named_rngs()) {
    rngs[name] = rng->state();
  }
  if (!rngs.empty()) meta["model_rngs"] = rngs.dump();
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
  // A model of the other kind is named as such, with the commands that take it.
  auto model = file.metadata.find("model");
  if (model != file.metadata.end() && model->second == "window_tagger") {
    throw DataError(path +
                    ": a window tagger in the format of nabla before December 2026, which this "
                    "version no longer reads; train it again with `nabla ner train`");
  }
  if (meta_at(path, file, "format") != "nabla-model-1") {
    throw DataError(path + ": unknown model format '" + meta_at(path, file, "format") + "'");
  }
  LoadedModel m;
  std::vector<std::pair<std::string, Shape>> parameters, buffers;
  try {
    m.spec = ModelSpec::from_json(meta_at(path, file, "model"));
    parameters = m.spec.parameter_shapes();
    buffers = m.spec.buffer_shapes();
  } catch (const ValueError& e) {
    throw DataError(path + ": " + e.what());
  }
  auto check = [&](const std::vector<std::pair<std::string, Shape>>& shapes, const char* what) {
    for (const auto& [name, shape] : shapes) {
      const Tensor* found = nullptr;
      for (const auto& [file_name, t] : file.tensors) {
        if (file_name == name) found = &t;
      }
      if (found == nullptr) {
        throw DataError(path + ": " + what + " " + name + " of " + m.spec.describe() +
                        " is missing");
      }
      if (found->shape() != shape) {
        throw DataError(path + ": " + what + " " + name + " has shape " +
                        shape_str(found->shape()) + ", the architecture " + m.spec.describe() +
                        " expects " + shape_str(shape));
      }
      // A NaN or an infinity would evaluate to some accuracy, or train on as NaN.
      if (const std::int64_t i = first_non_finite(*found); i >= 0) {
        const double v = found->get(i);
        const char* value = std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf");
        throw DataError(path + ": " + what + " " + name + " holds " + value + " (element " +
                        std::to_string(i) + ")");
      }
    }
  };
  check(parameters, "parameter");
  check(buffers, "buffer");
  Rng rng(0);
  m.net = build_model(m.spec, rng, DType::f32);  // (no larger than the file's tensors)
  load_state(path, file, m.net, m.spec);         // (buffers too)
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

Trainer Trainer::resume(const std::string& checkpoint, const Mnist& data,
                        std::int64_t total_iters) {
  return resume(checkpoint, SparseMnist::from(data), total_iters);
}

// (the data of these two hold out the validation split the checkpoint's run did)
Trainer Trainer::resume(const std::string& checkpoint, SparseMnist data, std::int64_t total_iters) {
  return resume_with(
      checkpoint,
      [&](const TrainConfig& c) {
        return mnist_training_data(std::move(data), HoldOut{c.validation, c.seed});
      },
      total_iters);
}

Trainer Trainer::resume(const std::string& checkpoint, DenseData data, std::int64_t total_iters) {
  return resume_with(
      checkpoint,
      [&](const TrainConfig& c) {
        return dense_training_data(std::move(data), HoldOut{c.validation, c.seed});
      },
      total_iters);
}

Trainer Trainer::resume(const std::string& checkpoint, std::shared_ptr<TrainingData> data,
                        std::int64_t total_iters) {
  return resume_with(
      checkpoint, [&](const TrainConfig&) { return std::move(data); }, total_iters);
}

Trainer Trainer::resume_with(
    const std::string& checkpoint,
    const std::function<std::shared_ptr<TrainingData>(const TrainConfig&)>& make_data,
    std::int64_t total_iters) {
  SafetensorsFile file = load_safetensors(checkpoint);
  LoadedModel loaded = load_model_from(checkpoint, file);
  TrainConfig config;
  try {
    config = TrainConfig::from_json(meta_at(checkpoint, file, "train"));
  } catch (const ValueError& e) {
    throw DataError(checkpoint + ": " + e.what());
  }
  config.model = loaded.spec;  // (checked against the tensors; the parameters are of it)
  Trainer t(config, make_data(config), false);
  t.net_ = std::move(loaded.net);
  t.bind_parameters();
  try {
    t.iteration_ = count_at(checkpoint, file, "iteration");
    t.total_iters_ = total_iters > 0 ? total_iters : count_at(checkpoint, file, "total_iters");
    t.rng_.restore(meta_at(checkpoint, file, "rng"));
    t.sampler_.restore(meta_at(checkpoint, file, "sampler"));
    if (t.schedule_follows_validation()) t.plateau_.restore(meta_at(checkpoint, file, "plateau"));
    if (t.augment_.any()) t.augment_rng_.restore(meta_at(checkpoint, file, "augment_rng"));
    auto streams = t.net_.named_rngs();
    if (!streams.empty()) {
      auto found = file.metadata.find("model_rngs");
      if (found == file.metadata.end()) {
        throw ValueError("metadata 'model_rngs' (the model's random streams) is missing");
      }
      nlohmann::json rngs;
      try {
        rngs = nlohmann::json::parse(found->second);
      } catch (const nlohmann::json::exception& e) {
        throw ValueError(std::string("metadata 'model_rngs' is not valid JSON (") + e.what() + ")");
      }
      for (auto& [name, rng] : streams) {
        if (!rngs.is_object() || !rngs.contains(name) || !rngs.at(name).is_string()) {
          throw ValueError("the state of the model's random stream " + name + " is missing");
        }
        rng->restore(rngs.at(name).get<std::string>());
      }
    }
    std::vector<std::pair<std::string, Tensor>> state;
    for (const auto& [name, tensor] : file.tensors) {
      if (name.rfind("optimizer.", 0) == 0) {
        state.emplace_back(name.substr(10), tensor);  // (positions too: optimizer.m.0)
      }
    }
    if (!state.empty()) t.optimizer_->load_state(state, t.param_names_);
  } catch (const std::logic_error& e) {  // ValueError
    throw DataError(checkpoint + ": cannot resume: " + e.what());
  }
  return t;
}

}  // namespace nabla
