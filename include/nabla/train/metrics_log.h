// nabla/train/metrics_log.h — metrics.csv, the log of a training run, one row per
// iteration (the accuracies and the seconds since the start only where it evaluated):
//
//   iteration,loss,train_acc,test_acc,seconds
//   1,2.30067,0.1124,0.1135,0.218
//   2,2.29871,,,
//
// and Metrics, the same numbers as lists, which curves.h plots.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "nabla/train/train.h"

namespace nabla {

// What a run's curves show: every iteration's loss, and the accuracies at each evaluation.
struct Metrics {
  std::vector<double> iters, losses;
  std::vector<double> eval_iters, train_acc, test_acc;

  void add_loss(std::int64_t iteration, double loss);
  void add_evaluation(const Evaluation& e);
};

// Reads the rows of a run's metrics.csv up to `last_iteration` (a run resumed from a
// checkpoint repeats what came after it) into m, and returns the length in bytes of the
// file's part to keep: the header and the rows up to there (not a last line cut short).
// Returns 0 for a file without a whole header line. A row that is not one of ours stays
// in the file and out of m.
std::uintmax_t read_metrics(const std::filesystem::path& path, std::int64_t last_iteration,
                            Metrics& m);

class MetricsLog {
 public:
  static constexpr const char* kHeader = "iteration,loss,train_acc,test_acc,seconds\n";

  // A new log at `path`, replacing any file there: the header line.
  static MetricsLog create(const std::filesystem::path& path);
  // The log of a run resumed from a checkpoint at `iteration`, continued: its rows up to
  // there stay (and are read into `kept`), the rest is cut off, since the resumed run
  // repeats those iterations. Without a file there (or a whole header line), create().
  static MetricsLog resume(const std::filesystem::path& path, std::int64_t iteration,
                           Metrics& kept);

  void write_loss(std::int64_t iteration, double loss);                     // "7,0.31,,,"
  void write_evaluation(const Evaluation& e, double loss, double seconds);  // all five
  // Writes out the rows so far; throws naming the file when writing failed.
  void flush();
  void close();

  const std::filesystem::path& path() const { return path_; }

 private:
  MetricsLog(std::filesystem::path path, std::uintmax_t keep);

  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace nabla
