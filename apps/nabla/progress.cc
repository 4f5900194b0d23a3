// The progress bar (see progress.h).
#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace nabla::cli {

// On stderr, so that stdout stays the run's lines (for a pipe or a file) while a terminal
// still shows the bar.
Progress::Progress(std::int64_t total) : total_(total), enabled_(isatty(STDERR_FILENO) != 0) {}

void Progress::update(std::int64_t done, double loss, double iters_per_s) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && std::chrono::duration<double>(now - last_).count() < 0.1) return;
  last_ = now;
  constexpr int kWidth = 30;
  int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
  double left = iters_per_s > 0 ? static_cast<double>(total_ - done) / iters_per_s : 0;
  std::fprintf(stderr, "\r[%s%s] %lld/%lld loss %.4f  %.0f it/s  %.0f s left ",
               std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), loss, iters_per_s,
               left);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r%s\r", std::string(90, ' ').c_str());
  drawn_ = false;
}

}  // namespace nabla::cli
