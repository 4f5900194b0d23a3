// What `nabla train` writes and shows: the run directory and its lock, the metrics log
// (metrics.csv), the curves (curves.svg), and the progress bar on a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace nabla::cli {

// ---- run directory ----------------------------------------------------------------------

// A new run directory for a run without --out: runs/YYYYmmdd-HHMMSS, made here, or with
// -2, -3, ... added when that is taken (by a run started in the same second, in this
// process or another: each name is claimed by creating it).
std::filesystem::path make_run_dir();

// Refuses (UsageError) an --out directory holding files (other than a lock) unless
// `overwrite`, or `resume` is a checkpoint in it (the resumed run continues there).
void check_out_dir(const std::filesystem::path& dir, const std::string& resume, bool overwrite);

// Throws naming the file when a write to it failed (a full disk, /dev/full).
void check_written(const std::ostream& out, const std::filesystem::path& path);

// The run directory's lock, held while a run writes there: a second run into the same
// directory is refused instead of mixing its files with the first's.
class RunLock {
 public:
  explicit RunLock(const std::filesystem::path& dir);
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();  // (closing releases the lock)

 private:
  int fd_ = -1;
};

// ---- metrics log and curves ---------------------------------------------------------------

// metrics.csv: one row per iteration (loss) and, at evaluations, the accuracies too.
struct Metrics {
  std::vector<double> iters, losses, eval_iters, train_acc, test_acc;
};

// Reads the rows of a run's metrics.csv up to `last_iteration` (a run resumed from a
// checkpoint repeats what came after it) into m, and returns the length in bytes of the
// file's part to keep: the header and the rows up to there (not a last line cut short).
std::uintmax_t read_metrics(const std::filesystem::path& path, std::int64_t last_iteration,
                            Metrics& m);

// curves.svg: the loss and the two accuracies against the iteration.
void write_curves(const std::filesystem::path& path, const Metrics& m, const std::string& title);

// ---- progress -----------------------------------------------------------------------------

// On a terminal (stderr): one line redrawn in place, at most ten times a second.
class Progress {
 public:
  explicit Progress(std::int64_t total);
  void update(std::int64_t done, double loss, double iters_per_s);
  // Clears the bar so that a normal line can be printed.
  void clear();

 private:
  std::int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace nabla::cli
