// nabla/train/schedule.h — the learning rate as a function of the iteration:
//
//   LrSchedule s = parse_lr_schedule("step:10:0.5", /*warmup=*/500);
//   double lr = s.rate(0.001, iteration, iters_per_epoch, total_iters);
//
//   constant          the base rate throughout (the default)
//   step:E:F          times F after every E epochs (step:10:0.5 halves it every 10 epochs)
//   cosine            from the base rate down to 0 along half a cosine over the run
//   plateau:P:F       times F whenever the validation metric has not bettered its best
//                     for P evaluations in a row (reduce-on-plateau; Plateau below)
//   warmup W          (with any of them) rising linearly from base/W to the base over the
//                     first W iterations, then the schedule from there
//
// The others are pure functions of the iteration, so a resumed run continues them exactly
// (the checkpoint holds the text and the iteration); plateau's state, the evaluations it
// has seen, is in the checkpoint too.
#pragma once

#include <cstdint>
#include <string>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

struct LrSchedule {
  enum class Kind { constant, step, cosine, plateau };
  Kind kind = Kind::constant;
  std::int64_t step_epochs = 0;  // step: every this many epochs
  std::int64_t patience = 0;     // plateau: after this many evaluations without a better one
  double factor = 1;             // step, plateau: times this
  std::int64_t warmup = 0;       // iterations of linear warm-up

  // The rate for the step that makes iteration `iteration` + 1 (0 for the first step).
  // For plateau, the base (after the warm-up) times `plateau_scale`, Plateau::scale().
  double rate(double base, std::int64_t iteration, std::int64_t per_epoch, std::int64_t total_iters,
              double plateau_scale = 1) const;
  // The text parse_lr_schedule reads: "constant", "step:10:0.5", "cosine", "plateau:3:0.5".
  std::string text() const;
};

// Reduce-on-plateau's state: update() takes each validation evaluation's metric in turn;
// once `patience` of them in a row have not bettered the best so far (higher, or with
// higher_is_better false lower), the scale is multiplied by `factor` and the count starts
// again (the best stays).
class Plateau {
 public:
  Plateau() = default;
  Plateau(std::int64_t patience, double factor, bool higher_is_better)
      : patience_(patience), factor_(factor), higher_(higher_is_better) {}
  // True when this evaluation reduced the rate.
  bool update(double metric);
  double scale() const { return scale_; }
  std::int64_t reductions() const { return reductions_; }
  std::int64_t seen() const { return seen_; }  // evaluations taken
  // The state as text (for a checkpoint), and back; ValueError for text not of state().
  std::string state() const;
  void restore(const std::string& text);

 private:
  std::int64_t patience_ = 0;
  double factor_ = 1;
  bool higher_ = true;
  std::int64_t seen_ = 0, since_best_ = 0, reductions_ = 0;
  double best_ = 0, scale_ = 1;
};

// ValueError naming the text and the forms it may take for anything else, a step of less
// than one epoch, a factor outside (0, 1], or a negative warm-up.
LrSchedule parse_lr_schedule(const std::string& text, std::int64_t warmup = 0);

}  // namespace nabla
NABLA_API_END
