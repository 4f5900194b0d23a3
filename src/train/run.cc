// A whole training run (see nabla/train/run.h): the loop, its checkpoints and evaluations,
// and the run directory's files.
#include "nabla/train/run.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "nabla/train/curves.h"
#include "nabla/train/metrics_log.h"
#include "nabla/train/run_dir.h"

namespace nabla {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

bool EarlyStopping::update(double metric) {
  if (!any_ || better(metric, best_, higher_)) {
    any_ = true;
    best_ = metric;
    since_best_ = 0;
  } else {
    ++since_best_;
  }
  return patience_ > 0 && since_best_ >= patience_;
}

namespace {

// A run in progress: the training loop, and the evaluations it records (metrics.csv, the
// curves' numbers, the observer).
class Run {
 public:
  Run(Trainer& trainer, RunObserver& observer, const std::filesystem::path& dir, MetricsLog log,
      Metrics kept, std::int64_t early_stop)
      : trainer_(trainer),
        observer_(observer),
        log_(std::move(log)),
        metrics_(std::move(kept)),
        higher_(trainer.data().higher_is_better()),
        early_stop_(early_stop, higher_),
        early_stop_active_(early_stop > 0) {
    result_.dir = dir;
    result_.model = dir / "model.safetensors";
    result_.curves = dir / "curves.svg";
    // A resumed run's best so far is among the rows it keeps (best.safetensors is its).
    for (std::size_t i = 0; i < metrics_.validation_acc.size(); ++i) {
      if (!result_.best_eval ||
          EarlyStopping::better(metrics_.validation_acc[i], *result_.best_eval->validation_acc,
                                higher_)) {
        Evaluation e;
        e.iteration = static_cast<std::int64_t>(metrics_.eval_iters[i]);
        e.train_acc = metrics_.train_acc[i];
        e.validation_acc = metrics_.validation_acc[i];
        e.test_acc = metrics_.test_acc[i];
        result_.best_eval = e;
      }
    }
    if (result_.best_eval) result_.best_model = dir / "best.safetensors";
    for (double v : metrics_.validation_acc) early_stop_.update(v);  // (a resumed run's)
    // A plateau schedule has seen the evaluations before its checkpoint; those after it
    // (the one at the checkpoint's iteration, made after it was saved) it sees now.
    for (std::size_t i = static_cast<std::size_t>(trainer_.validations_observed());
         i < metrics_.validation_acc.size(); ++i) {
      trainer_.observe_validation(metrics_.validation_acc[i]);
    }
  }

  // Steps to the end, with a checkpoint and an evaluation whenever one is due, or until
  // `stop` asks to stop (then stopped() is true).
  void train(bool background, const std::function<bool()>& stop) {
    const std::int64_t first = trainer_.iteration();
    while (!trainer_.done() && !result_.stopped_early) {
      if (stop && stop()) {
        result_.stopped = true;
        break;
      }
      last_loss_ = trainer_.step();
      const std::int64_t iteration = trainer_.iteration();
      metrics_.add_loss(iteration, last_loss_);
      if (trainer_.eval_due()) {
        // The rows before this iteration reach the file first, then the checkpoint to
        // resume from (atomic, but not waiting for the disk; the final one does): whenever
        // the model file says iteration k, metrics.csv holds every row before k.
        collect(true);
        log_.flush();
        trainer_.save(result_.model.string(), Flush::fast);
        if (background) {
          evaluate_beside();
        } else {
          evaluate(false);
        }
      } else if (pending_) {
        pending_->rows_after.emplace_back(iteration, last_loss_);
      } else {
        log_.write_loss(iteration, last_loss_);
      }
      collect(false);
      const double train_seconds = seconds_since(start_) - result_.eval_seconds;
      observer_.step_done(iteration, last_loss_,
                          static_cast<double>(iteration - first) / std::max(train_seconds, 1e-9));
    }
    collect(true);
  }

  // After training went wrong (TrainingError): the log so far and the curves, to see how it
  // went; no model (its parameters are what went wrong).
  void abandon() noexcept {
    try {
      pending_.reset();  // (the evaluation beside: awaited, left out)
      log_.close();
      write_curves(result_.curves, metrics_, trainer_.config().model.describe());
    } catch (const std::exception&) {
      // the error that stopped training is the one to tell
    }
  }

  // The final evaluation, the final model, and the curves; for a run that was stopped,
  // the checkpoint to resume from (after the rows before it, as at every checkpoint).
  RunResult finish() {
    if (result_.stopped) {
      log_.flush();
    } else {
      result_.final_eval = evaluate(true);
    }
    trainer_.save(result_.model.string());
    if (best_is_final_) keep_best();
    log_.close();
    result_.seconds = seconds_since(start_);
    write_curves(result_.curves, metrics_, trainer_.config().model.describe());
    observer_.finished(result_);
    return result_;
  }

 private:
  // An evaluation on a thread of its own, and the rows of the steps taken meanwhile: they
  // go to metrics.csv after its row, to keep the file in order.
  struct Pending {
    std::future<Evaluation> result;
    double loss = 0, seconds = 0;  // its row's loss and time
    std::vector<std::pair<std::int64_t, double>> rows_after;
  };

  void record(const Evaluation& e, double loss, double seconds, bool is_final) {
    // The best validation metric so far: its checkpoint is model.safetensors now (written
    // before the evaluation, and the next one not yet), or, for the final model, once
    // finish() has saved it.
    if (e.validation_acc &&
        (!result_.best_eval ||
         EarlyStopping::better(*e.validation_acc, *result_.best_eval->validation_acc, higher_))) {
      result_.best_eval = e;
      result_.best_model = result_.dir / "best.safetensors";
      if (is_final) {
        best_is_final_ = true;
      } else {
        keep_best();
      }
    }
    if (e.validation_acc && !is_final) trainer_.observe_validation(*e.validation_acc);
    if (e.validation_acc && !is_final && early_stop_active_) {
      // (rank 0 decides, from its log's history too; the other ranks are told)
      std::byte stop{early_stop_.update(*e.validation_acc) ? std::byte{1} : std::byte{0}};
      if (trainer_.communicator().size() > 1) trainer_.communicator().broadcast({&stop, 1}, 0);
      result_.stopped_early = stop == std::byte{1};
    }
    observer_.evaluated(e, is_final);
    metrics_.add_evaluation(e);
    log_.write_evaluation(e, loss, seconds);
  }

  Evaluation evaluate(bool is_final) {
    const auto t = Clock::now();
    Evaluation e = trainer_.evaluate();
    result_.eval_seconds += seconds_since(t);
    record(e, last_loss_, seconds_since(start_), is_final);
    return e;
  }

  void evaluate_beside() {
    // (built whole: clang 14 cannot default-construct a nested struct with member
    // initializers inside its unfinished enclosing class)
    pending_ = Pending{trainer_.evaluate_in_background(), last_loss_, seconds_since(start_), {}};
  }

  // best.safetensors := model.safetensors (a copy, then a rename: never half a file).
  void keep_best() {
    const std::filesystem::path tmp = result_.dir / "best.safetensors.tmp";
    std::filesystem::copy_file(result_.model, tmp,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, result_.best_model);
  }

  // Records the evaluation running beside training once it is in (`wait`: waits for it).
  void collect(bool wait) {
    if (!pending_) return;
    if (!wait && pending_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return;
    }
    const auto t = Clock::now();
    Evaluation e = pending_->result.get();
    result_.eval_seconds += seconds_since(t);
    result_.eval_beside_seconds += e.seconds;
    Pending done = std::move(*pending_);
    pending_.reset();
    record(e, done.loss, done.seconds, false);
    for (const auto& [iteration, loss] : done.rows_after) log_.write_loss(iteration, loss);
  }

  Trainer& trainer_;
  RunObserver& observer_;
  MetricsLog log_;
  Metrics metrics_;  // for the curves: those of a continued log, then this run's
  RunResult result_;
  const Clock::time_point start_ = Clock::now();
  double last_loss_ = 0;
  bool best_is_final_ = false;
  bool higher_ = true;  // the data's metric is better higher (accuracy) or lower (RMSE)
  EarlyStopping early_stop_;
  bool early_stop_active_ = false;
  std::optional<Pending> pending_;
};

// A rank other than 0 among several (Trainer::set_communicator): the same steps and
// evaluations as rank 0's (they are collective), and nothing written or told.
RunResult follow_run(Trainer& trainer, std::int64_t early_stop) {
  RunResult result;
  const auto start = Clock::now();
  while (!trainer.done() && !result.stopped_early) {
    trainer.step();
    if (trainer.eval_due()) {
      const auto t = Clock::now();
      const Evaluation e = trainer.evaluate();
      result.eval_seconds += seconds_since(t);
      if (e.validation_acc) trainer.observe_validation(*e.validation_acc);  // (as rank 0)
      if (early_stop > 0 && e.validation_acc) {  // rank 0's decision (Run::record)
        std::byte stop{0};
        trainer.communicator().broadcast({&stop, 1}, 0);
        result.stopped_early = stop == std::byte{1};
      }
    }
  }
  result.final_eval = trainer.evaluate();
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace

RunResult run_training(Trainer& trainer, const RunOptions& options, RunObserver& observer) {
  // (refused before anything is written, on every rank)
  if (options.early_stop > 0 && trainer.data().size(Split::validation) == 0) {
    throw ValueError("early stopping needs a validation split (--validation FRACTION)");
  }
  // Among several ranks, rank 0 alone writes the run directory and tells the observer.
  if (trainer.communicator().rank() != 0) return follow_run(trainer, options.early_stop);
  // A new directory of its own, or the one given: not one holding another run's files.
  const std::filesystem::path dir = options.dir.empty() ? make_run_dir() : options.dir;
  std::filesystem::create_directories(dir);
  RunLock lock(dir);
  if (!options.dir.empty()) check_out_dir(dir, options.resumed_from, options.overwrite);
  remove_save_leftovers(dir);  // (a killed run's; the lock keeps out any other's)
  const std::filesystem::path csv = dir / "metrics.csv";
  Metrics kept;
  MetricColumns columns = metric_columns(trainer.data());
  kept.columns = columns;
  MetricsLog log = options.resumed_from.empty()
                       ? MetricsLog::create(csv, columns)
                       : MetricsLog::resume(csv, trainer.iteration(), kept, columns);
  // (a decision by the validation metric falls at the same iteration whatever the
  // threads: those evaluations run on the loop's thread)
  const bool decides = options.early_stop > 0 || trainer.schedule_follows_validation();
  observer.started(dir);
  Run run(trainer, observer, dir, std::move(log), std::move(kept), options.early_stop);
  // (an evaluation among ranks is collective: on the loop's thread)
  try {
    run.train(options.background_evaluation && !decides && trainer.communicator().size() == 1,
              options.stop_requested);
  } catch (const TrainingError&) {
    run.abandon();  // (the curves of a run that diverged)
    throw;
  }
  return run.finish();
}

}  // namespace nabla
