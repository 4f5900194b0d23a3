// The description of a training run: TrainConfig as JSON.
#include "nabla/train/train.h"
#include "train/json_fields.h"

namespace nabla {

using json = nlohmann::json;
using json_fields::field;
using json_fields::parse;

namespace {

Sampling parse_sampling(const std::string& name) {
  if (name == sampling_name(Sampling::with_replacement)) return Sampling::with_replacement;
  if (name == sampling_name(Sampling::shuffled_epochs)) return Sampling::shuffled_epochs;
  throw ValueError("sampling '" + name + "' is not one of " +
                   sampling_name(Sampling::with_replacement) + ", " +
                   sampling_name(Sampling::shuffled_epochs));
}

}  // namespace

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
            {"validation", validation},
            {"lr_schedule", lr_schedule},
            {"warmup", warmup},
            {"clip_norm", clip_norm},
            {"shards", shards},
            {"augment", augment},
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
  // (checkpoints written before validation splits have none)
  if (j.contains("validation")) c.validation = field<double>(j, "validation", what);
  if (j.contains("lr_schedule")) c.lr_schedule = field<std::string>(j, "lr_schedule", what);
  if (j.contains("warmup")) c.warmup = field<std::int64_t>(j, "warmup", what);
  if (j.contains("clip_norm")) c.clip_norm = field<double>(j, "clip_norm", what);
  // (files written before data parallelism have none: one slice)
  c.shards = j.contains("shards") ? field<std::int64_t>(j, "shards", what) : 1;
  if (c.shards < 1) throw ValueError("training options: shards must be at least 1");
  if (j.contains("augment")) c.augment = field<std::string>(j, "augment", what);
  if (!j.contains("model")) throw ValueError("training options: missing field 'model'");
  c.model = ModelSpec::from_json(j.at("model").dump());
  return c;
}

}  // namespace nabla
