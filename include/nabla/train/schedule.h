// nabla/train/schedule.h — the learning rate as a function of the iteration:
//
//   LrSchedule s = parse_lr_schedule("step:10:0.5", /*warmup=*/500);
//   double lr = s.rate(0.001, iteration, iters_per_epoch, total_iters);
//
//   constant          the base rate throughout (the default)
//   step:E:F          times F after every E epochs (step:10:0.5 halves it every 10 epochs)
//   cosine            from the base rate down to 0 along half a cosine over the run
//   warmup W          (with any of them) rising linearly from base/W to the base over the
//                     first W iterations, then the schedule from there
//
// A schedule is a pure function of the iteration, so a resumed run continues it exactly
// (the checkpoint holds the text and the iteration).
#pragma once

#include <cstdint>
#include <string>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

struct LrSchedule {
  enum class Kind { constant, step, cosine };
  Kind kind = Kind::constant;
  std::int64_t step_epochs = 0;  // step: every this many epochs
  double factor = 1;             // step: times this
  std::int64_t warmup = 0;       // iterations of linear warm-up

  // The rate for the step that makes iteration `iteration` + 1 (0 for the first step).
  double rate(double base, std::int64_t iteration, std::int64_t per_epoch,
              std::int64_t total_iters) const;
  // The text parse_lr_schedule reads: "constant", "step:10:0.5", "cosine".
  std::string text() const;
};

// ValueError naming the text and the forms it may take for anything else, a step of less
// than one epoch, a factor outside (0, 1], or a negative warm-up.
LrSchedule parse_lr_schedule(const std::string& text, std::int64_t warmup = 0);

}  // namespace nabla
NABLA_API_END
