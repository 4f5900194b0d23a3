// The progress bar of `nabla train` and `nabla ner train`, on a terminal.
#pragma once

#include <chrono>
#include <cstdint>

namespace nabla::cli {

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
