// Learning-rate schedules (see nabla/train/schedule.h).
#include "nabla/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>

#include "nabla/core/tensor.h"  // ValueError

namespace nabla {

double LrSchedule::rate(double base, std::int64_t iteration, std::int64_t per_epoch,
                        std::int64_t total_iters, double plateau_scale) const {
  if (iteration < warmup) {
    return base * static_cast<double>(iteration + 1) / static_cast<double>(warmup);
  }
  switch (kind) {
    case Kind::step: {
      const std::int64_t epoch = iteration / std::max<std::int64_t>(per_epoch, 1);
      return base * std::pow(factor, static_cast<double>(epoch / step_epochs));
    }
    case Kind::cosine: {
      // over the iterations after the warm-up: iteration warmup at the base, the last at ~0
      const double span = static_cast<double>(std::max<std::int64_t>(total_iters - warmup, 1));
      const double t = static_cast<double>(iteration - warmup) / span;
      return base * 0.5 * (1 + std::cos(std::numbers::pi * std::min(t, 1.0)));
    }
    case Kind::plateau:
      return base * plateau_scale;
    case Kind::constant:
      break;
  }
  return base;
}

bool Plateau::update(double metric) {
  const bool better = higher_ ? metric > best_ : metric < best_;
  if (seen_++ == 0 || better) {
    best_ = metric;
    since_best_ = 0;
    return false;
  }
  if (++since_best_ < patience_) return false;
  since_best_ = 0;
  ++reductions_;
  scale_ *= factor_;
  return true;
}

std::string Plateau::state() const {
  char out[160];
  std::snprintf(out, sizeof out, "%lld %lld %lld %.17g %.17g", static_cast<long long>(seen_),
                static_cast<long long>(since_best_), static_cast<long long>(reductions_), best_,
                scale_);
  return out;
}

void Plateau::restore(const std::string& text) {
  long long seen = 0, since = 0, reductions = 0;
  double best = 0, scale = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%lld %lld %lld %lf %lf%n", &seen, &since, &reductions, &best,
                  &scale, &used) != 5 ||
      used != static_cast<int>(text.size()) || seen < 0 || since < 0 || reductions < 0 ||
      !(scale > 0 && scale <= 1) || !std::isfinite(best)) {
    throw ValueError("'" + text + "' is not the state of a plateau schedule");
  }
  seen_ = seen;
  since_best_ = since;
  reductions_ = reductions;
  best_ = best;
  scale_ = scale;
}

std::string LrSchedule::text() const {
  if (kind == Kind::cosine) return "cosine";
  if (kind == Kind::constant) return "constant";
  char out[64];
  if (kind == Kind::plateau) {
    std::snprintf(out, sizeof out, "plateau:%lld:%.17g", static_cast<long long>(patience), factor);
  } else {
    std::snprintf(out, sizeof out, "step:%lld:%.17g", static_cast<long long>(step_epochs), factor);
  }
  return out;
}

LrSchedule parse_lr_schedule(const std::string& text, std::int64_t warmup) {
  const std::string forms =
      "; the schedules are constant, cosine, step:EPOCHS:FACTOR and plateau:PATIENCE:FACTOR";
  if (warmup < 0) throw ValueError("warm-up of " + std::to_string(warmup) + " iterations");
  LrSchedule s;
  s.warmup = warmup;
  if (text == "constant") return s;
  if (text == "cosine") {
    s.kind = LrSchedule::Kind::cosine;
    return s;
  }
  long long epochs = 0;
  double factor = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "step:%lld:%lf%n", &epochs, &factor, &used) == 2 &&
      used == static_cast<int>(text.size())) {
    if (epochs < 1 || !(factor > 0 && factor <= 1)) {
      throw ValueError("learning-rate schedule '" + text +
                       "': the step needs 1 or more epochs and a factor in (0, 1]");
    }
    s.kind = LrSchedule::Kind::step;
    s.step_epochs = epochs;
    s.factor = factor;
    return s;
  }
  long long patience = 0;
  used = 0;
  if (std::sscanf(text.c_str(), "plateau:%lld:%lf%n", &patience, &factor, &used) == 2 &&
      used == static_cast<int>(text.size())) {
    if (patience < 1 || !(factor > 0 && factor < 1)) {
      throw ValueError("learning-rate schedule '" + text +
                       "': the plateau needs a patience of 1 or more evaluations and a factor "
                       "in (0, 1)");
    }
    s.kind = LrSchedule::Kind::plateau;
    s.patience = patience;
    s.factor = factor;
    return s;
  }
  throw ValueError("learning-rate schedule '" + text + "' is not one nabla knows" + forms);
}

}  // namespace nabla
