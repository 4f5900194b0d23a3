// nabla/train/run_dir.h — the directory a training run writes (metrics.csv, curves.svg,
// model.safetensors) and its lock:
//
//   std::filesystem::path dir = make_run_dir();   // runs/20250101-120000, made here
//   RunLock lock(dir);                            // a second run into dir is refused
//
// run_training (run.h) does this for a run; a program writing a run of its own can too.
#pragma once

#include <ctime>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

// A new run directory: parent/YYYYmmdd-HHMMSS of the local time `when`, made here, or with
// -2, -3, ... added when that is taken (by a run started in the same second, in this
// process or another: each name is claimed by creating it). Makes `parent` if need be.
std::filesystem::path make_run_dir(const std::filesystem::path& parent = "runs",
                                   std::time_t when = std::time(nullptr));

// A chosen run directory that holds another run's files.
class RunDirTaken : public std::runtime_error {
 public:
  RunDirTaken(std::filesystem::path dir, std::string file);
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& file() const { return file_; }  // the first file found there

 private:
  std::filesystem::path dir_;
  std::string file_;
};

// Throws RunDirTaken when `dir` holds files (other than a lock and the leftovers of a
// killed save), unless `overwrite`, or `resume` is a checkpoint in it (the resumed run
// continues there).
void check_out_dir(const std::filesystem::path& dir, const std::string& resume, bool overwrite);

// Removes the temporary files that saves killed before their rename left in `dir`
// (model.safetensors.tmp-<16 hex digits>: is_save_leftover in core/safetensors.h) and
// returns their names. Call it holding the directory's RunLock: then no save of another
// run can be under way there. run_training does, so a run resumed (or started again with
// --overwrite) after a kill -9 leaves none behind.
std::vector<std::string> remove_save_leftovers(const std::filesystem::path& dir);

// Throws naming the file when a write to it failed (a full disk, /dev/full).
void check_written(const std::ostream& out, const std::filesystem::path& path);

// A run directory whose lock another run holds.
class RunDirLocked : public std::runtime_error {
 public:
  explicit RunDirLocked(std::filesystem::path dir);
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path lock_file() const { return dir_ / ".lock"; }

 private:
  std::filesystem::path dir_;
};

// The run directory's lock (dir/.lock, an flock), held while a run writes there: a second
// run into the same directory is refused (RunDirLocked) instead of mixing its files with
// the first's. The lock goes with the process, so a killed run leaves none behind.
class RunLock {
 public:
  explicit RunLock(const std::filesystem::path& dir);
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();  // (closing releases the lock)

 private:
  int fd_ = -1;
};

}  // namespace nabla
NABLA_API_END
