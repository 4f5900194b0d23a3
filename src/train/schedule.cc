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
                        std::int64_t total_iters) const {
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
    case Kind::constant:
      break;
  }
  return base;
}

std::string LrSchedule::text() const {
  if (kind == Kind::cosine) return "cosine";
  if (kind == Kind::constant) return "constant";
  char out[64];
  std::snprintf(out, sizeof out, "step:%lld:%.17g", static_cast<long long>(step_epochs), factor);
  return out;
}

LrSchedule parse_lr_schedule(const std::string& text, std::int64_t warmup) {
  const std::string forms = "; the schedules are constant, cosine and step:EPOCHS:FACTOR";
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
  throw ValueError("learning-rate schedule '" + text + "' is not one nabla knows" + forms);
}

}  // namespace nabla
