// nabla/train/metrics_log.h — metrics.csv, the log of a training run, one row per
// iteration (the accuracies and the seconds since the start only where it evaluated):
//
//   iteration,loss,train_acc,test_acc,seconds
//   1,2.30067,0.1124,0.1135,0.218
//   2,2.29871,,,
//
// and Metrics, the same numbers as lists, which curves.h plots. The columns are named by
// the data (TrainingData::metric_key, split_name): a tagger with a dev set logs
//
//   iteration,loss,train_f1,dev_f1,test_f1,seconds
//
// Beside it, metrics.jsonl holds the evaluations alone, one JSON object a line with the
// same fields (the numbers at full precision), for programs that read logs:
//
//   {"iteration":1,"loss":2.30067,"train_acc":0.1124,"test_acc":0.1135,"seconds":0.218}
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/train/train.h"

NABLA_API_BEGIN
namespace nabla {

// The metric columns of a run's log: train_acc and test_acc, with a validation column
// between them when the data has a validation split.
struct MetricColumns {
  std::string metric = "accuracy";  // TrainingData::metric, for the curves' labels
  std::string train = "train_acc";
  std::string validation;           // empty: none
  std::string test = "test_acc";
  std::string header() const;       // "iteration,loss,train_acc,test_acc,seconds\n"
  std::size_t fields() const { return validation.empty() ? 5 : 6; }
};
MetricColumns metric_columns(const TrainingData& data);

// What a run's curves show: every iteration's loss, and the metric at each evaluation.
struct Metrics {
  MetricColumns columns;
  std::vector<double> iters, losses;
  std::vector<double> eval_iters, train_acc, test_acc, validation_acc;

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
  // The header of data without a validation split, accuracy measured.
  static constexpr const char* kHeader = "iteration,loss,train_acc,test_acc,seconds\n";

  // The JSON-lines log beside a metrics.csv: metrics.jsonl in its directory.
  static std::filesystem::path jsonl_path(const std::filesystem::path& csv);

  // A new log at `path`, replacing any file there: the header line (and an empty
  // metrics.jsonl beside it).
  static MetricsLog create(const std::filesystem::path& path, MetricColumns columns = {});
  // The log of a run resumed from a checkpoint at `iteration`, continued: its rows up to
  // there stay (and are read into `kept`, whose columns are set), the rest is cut off,
  // since the resumed run repeats those iterations. Without a file there (or a whole
  // header line), create(). metrics.jsonl keeps its lines up to there too.
  static MetricsLog resume(const std::filesystem::path& path, std::int64_t iteration,
                           Metrics& kept, MetricColumns columns = {});

  void write_loss(std::int64_t iteration, double loss);                     // "7,0.31,,,"
  void write_evaluation(const Evaluation& e, double loss, double seconds);  // every field,
                                                                            // in both files
  // Writes out the rows so far; throws naming the file when writing failed.
  void flush();
  void close();

  const std::filesystem::path& path() const { return path_; }

 private:
  MetricsLog(std::filesystem::path path, std::uintmax_t keep, std::uintmax_t keep_jsonl,
             MetricColumns columns);

  std::filesystem::path path_, jsonl_path_;
  MetricColumns columns_;
  std::ofstream out_, jsonl_;
};

}  // namespace nabla
NABLA_API_END
