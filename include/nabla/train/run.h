// nabla/train/run.h — a whole training run, as `nabla train` makes one: the Trainer's
// loop with evaluations on its schedule, and a run directory holding
//   metrics.csv        a row per iteration (metrics_log.h)
//   metrics.jsonl      a JSON object per evaluation, the same fields (metrics_log.h)
//   model.safetensors  a checkpoint at every evaluation; the final model at the end
//   curves.svg         the loss and the accuracies against the iteration (curves.h), also
//                      for a run that ended early: stopped early, interrupted, diverged
//   best.safetensors   for data with a validation split: the checkpoint whose validation
//                      metric was the best (the first of equals; the highest accuracy,
//                      the lowest RMSE), chosen by it alone
//
//   Trainer trainer(TrainConfig{}, load_mnist_sparse(resolve_data_dir(std::nullopt)));
//   RunObserver quiet;                     // or a class of your own that prints
//   RunResult r = run_training(trainer, RunOptions{}, quiet);   // into runs/<date-time>
//   std::printf("test acc %.4f, model in %s\n", r.final_eval.test_acc, r.model.c_str());
//
// The library prints nothing: an observer is told what happens, and shows what it likes.
// Among several ranks (Trainer::set_communicator), rank 0 alone writes the directory and
// tells its observer; the others take the same steps and evaluations, silently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "nabla/core/export.h"
#include "nabla/train/train.h"

NABLA_API_BEGIN
namespace nabla {

struct RunOptions {
  // The run directory; empty: a new one, runs/<date-time> (run_dir.h's make_run_dir).
  // One given that holds files is refused (RunDirTaken) unless `overwrite`, or the trainer
  // was resumed from a checkpoint in it. Another run writing there is refused
  // (RunDirLocked).
  std::filesystem::path dir;
  bool overwrite = false;
  // The checkpoint the trainer was resumed from (Trainer::resume), if it was. A resumed run
  // continues the metrics.csv it finds in the directory: the rows up to the checkpoint
  // stay, those after it are cut off (they are trained again).
  std::string resumed_from;
  // The evaluations during training run beside it, on a thread of their own
  // (Trainer::evaluate_in_background), for a machine with a core to spare. The numbers
  // and metrics.csv's rows are the same (the rows after an evaluation are held back until
  // its result is in); only the seconds differ.
  bool background_evaluation = false;
  // Early stopping (EarlyStopping below): stop once this many evaluations in a row have
  // not bettered the best validation metric; 0: off. Needs a validation split. The
  // evaluations then run on the loop's thread, so that the stop falls at the same
  // iteration whatever the threads.
  std::int64_t early_stop = 0;
  // Asked before every step: once it returns true, the run stops there as if it were
  // done, but without a final evaluation: the evaluation under way (if any) is awaited,
  // the checkpoint of the iteration reached is saved (durably) with the rows of
  // metrics.csv up to it, and curves.svg is drawn; RunResult::stopped says so, and a
  // Trainer::resume from the checkpoint, with the same directory, goes on from there as
  // if the run had not stopped. Empty: never stops early. (`nabla train` asks it of its
  // SIGINT / SIGTERM handler: the library keeps no signal state of its own.)
  std::function<bool()> stop_requested;
};

// Early stopping on the validation metric (higher is better, or with `higher_is_better`
// false lower, as a regression's RMSE; TrainingData::higher_is_better): update() takes
// each evaluation's metric in turn and says when `patience` of them in a row have not
// bettered the best so far.
class EarlyStopping {
 public:
  explicit EarlyStopping(std::int64_t patience, bool higher_is_better = true)
      : patience_(patience), higher_(higher_is_better) {}
  // True when training should stop after this evaluation.
  bool update(double metric);
  std::int64_t since_best() const { return since_best_; }
  // Whether `metric` betters `best` (strictly: the first of equals stays the best).
  static bool better(double metric, double best, bool higher_is_better) {
    return higher_is_better ? metric > best : metric < best;
  }

 private:
  std::int64_t patience_;
  bool higher_;
  std::int64_t since_best_ = 0;
  bool any_ = false;
  double best_ = 0;
};

struct RunResult {
  std::filesystem::path dir;     // the run directory
  std::filesystem::path model;   // dir/model.safetensors: the final model (a checkpoint)
  std::filesystem::path curves;  // dir/curves.svg
  Evaluation final_eval;         // of the final model: what `nabla eval` reports for it
                                 // (not made when the run was stopped)
  // With a validation split: the evaluation with the best validation metric (of this run
  // or, resumed, of the rows before it) and dir/best.safetensors, its model.
  std::optional<Evaluation> best_eval;
  std::filesystem::path best_model;
  bool stopped_early = false;  // by RunOptions::early_stop, before the planned iterations
  // Stopped by RunOptions::stop_requested before the total iterations: `model` is the
  // checkpoint of the iteration reached, to resume from.
  bool stopped = false;
  // Wall-clock seconds of the loop (from the first step to the final model, before the
  // curves), of that the time the loop's thread spent evaluating or waiting for an
  // evaluation, and the time of the evaluations that ran beside it, on their own thread.
  double seconds = 0, eval_seconds = 0, eval_beside_seconds = 0;
};

// What a run tells as it goes. Every event has an empty default: override those you need.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // The run directory is ready (made or checked, locked, metrics.csv begun); no step yet.
  virtual void started(const std::filesystem::path& /*dir*/) {}
  // An evaluation's result, in the order of the iterations (background ones too, when
  // they are in); `is_final` for the final model's, after the last step.
  virtual void evaluated(const Evaluation& /*e*/, bool /*is_final*/) {}
  // After each step and what came with it (a checkpoint, an evaluation): the iteration
  // done, its batch's loss, and the iterations per second so far, evaluations left out.
  virtual void step_done(std::int64_t /*iteration*/, double /*loss*/, double /*iters_per_second*/) {
  }
  // Everything is written: the final model (or, when stopped, the checkpoint to resume
  // from), metrics.csv and curves.svg.
  virtual void finished(const RunResult& /*result*/) {}
};

// Trains `trainer` to its total iterations (from where it is: a resumed one goes on) and
// writes the run directory; the final evaluation is of the final model, which is saved
// last. Throws what the Trainer throws (TrainingError when training diverges: metrics.csv
// and curves.svg are written up to there first, and no model), RunDirTaken
// or RunDirLocked for a directory it may not write, and an error naming the file when a
// write fails.
RunResult run_training(Trainer& trainer, const RunOptions& options, RunObserver& observer);

}  // namespace nabla
NABLA_API_END
