// Checks of `nabla train`'s command line (train_checks.h).
#include "train_checks.h"

#include <cstdio>
#include <functional>

#include "exit_status.h"
#include "nabla/train/optim.h"

namespace nabla::cli {

namespace {

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

std::string sizes(const std::vector<std::int64_t>& hidden) {
  std::string text;
  for (std::int64_t h : hidden) {
    if (!text.empty()) text += ',';
    text += std::to_string(h);
  }
  return text.empty() ? "(none)" : text;
}

}  // namespace

void check_model_options(const TrainConfig& asked, const std::set<std::string>& given) {
  const std::string& kind = asked.model.kind;
  if (kind == "linear") {
    for (const char* option : {"hidden", "activation"}) {
      if (given.count(option) != 0) {
        throw UsageError(std::string("--") + option +
                         " does not apply to --model linear (it has no hidden layer); use "
                         "--model mlp or two-layer-net, or leave it out");
      }
    }
  }
  if (given.count("init-std") != 0 && asked.model.init != Init::normal) {
    throw UsageError(std::string("--init-std applies to --init std only, not --init ") +
                     init_name(asked.model.init));
  }
}

std::vector<std::string> check_resume_options(const std::string& checkpoint_path,
                                              const TrainConfig& checkpoint,
                                              const TrainConfig& asked,
                                              const std::set<std::string>& given) {
  // Each option that a checkpoint fixes: its value there and the one asked for.
  struct Fixed {
    const char* option;
    std::function<std::string(const TrainConfig&)> value;
  };
  const std::vector<Fixed> fixed = {
      {"model", [](const TrainConfig& c) { return c.model.kind; }},
      {"hidden", [](const TrainConfig& c) { return sizes(c.model.hidden); }},
      {"activation", [](const TrainConfig& c) { return c.model.activation; }},
      {"loss", [](const TrainConfig& c) { return c.model.loss; }},
      {"init", [](const TrainConfig& c) { return std::string(init_name(c.model.init)); }},
      {"init-std", [](const TrainConfig& c) { return number(c.model.init_std); }},
      {"batch", [](const TrainConfig& c) { return std::to_string(c.batch); }},
      {"optimizer", [](const TrainConfig& c) { return c.optimizer; }},
      {"weight-decay", [](const TrainConfig& c) { return number(c.weight_decay); }},
      {"reg", [](const TrainConfig& c) { return number(c.reg); }},
      {"seed", [](const TrainConfig& c) { return std::to_string(c.seed); }},
      {"validation", [](const TrainConfig& c) { return number(c.validation); }},
      {"lr-schedule", [](const TrainConfig& c) { return c.lr_schedule; }},
      {"warmup", [](const TrainConfig& c) { return std::to_string(c.warmup); }},
      {"clip-norm", [](const TrainConfig& c) { return number(c.clip_norm); }},
      {"augment", [](const TrainConfig& c) { return c.augment.empty() ? "none" : c.augment; }},
      {"task",
       [](const TrainConfig& c) {
         return std::string(c.model.loss == "mse" ? "regression" : "classification");
       }},
      {"sampling",
       [](const TrainConfig& c) {
         return c.sampling == Sampling::shuffled_epochs ? "shuffle" : "replacement";
       }},
  };
  std::string conflicts;
  for (const Fixed& f : fixed) {
    if (given.count(f.option) == 0) continue;
    std::string was = f.value(checkpoint), now = f.value(asked);
    if (was != now) {
      conflicts += std::string(conflicts.empty() ? "" : ", ") + "--" + f.option + " " + now +
                   " (the checkpoint's is " + was + ")";
    }
  }
  if (!conflicts.empty()) {
    throw UsageError("--resume " + checkpoint_path +
                     " continues a run whose settings are fixed: " + conflicts +
                     ". Leave these options out to continue it, or start a new run without "
                     "--resume; --lr, --iters/--epochs, --threads and --out may change");
  }
  std::vector<std::string> applied;
  if (given.count("lr") != 0 && asked.lr != checkpoint.lr) {
    applied.push_back("learning rate " + number(checkpoint.lr) + " -> " + number(asked.lr) +
                      " (--lr)");
  }
  return applied;
}

LoadedModel load_network(const std::string& path) {
  LoadedModel m = load_model(path);
  if (m.spec.kind == "window-tagger") {
    throw DataError(path +
                    ": a window tagger (made by `nabla ner train`), not a network of `nabla "
                    "train`; `nabla ner eval` and `nabla ner tag` take it");
  }
  return m;
}

}  // namespace nabla::cli
