// What `nabla train` writes and shows (see train_output.h).
#include "train_output.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include "exit_status.h"
#include "svg_plot.h"

namespace nabla::cli {

// ---- run directory ----------------------------------------------------------------------

std::filesystem::path make_run_dir() {
  std::time_t now = std::time(nullptr);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const std::filesystem::path runs = "runs";
  std::filesystem::create_directories(runs);
  for (int n = 1;; ++n) {
    std::string name = stamp;
    if (n > 1) name += '-' + std::to_string(n);
    std::filesystem::path dir = runs / name;
    if (std::filesystem::create_directory(dir)) return dir;  // false: taken
  }
}

void check_out_dir(const std::filesystem::path& dir, const std::string& resume, bool overwrite) {
  if (overwrite) return;
  if (!resume.empty()) {
    std::filesystem::path home = std::filesystem::path(resume).parent_path();
    std::error_code ec;
    if (std::filesystem::equivalent(home.empty() ? "." : home, dir, ec)) {
      return;  // the resumed run continues in its own directory
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() != ".lock") {
      throw UsageError("--out " + dir.string() + " already holds " +
                       entry.path().filename().string() +
                       " (another run?); choose another directory, or add --overwrite to "
                       "replace its run");
    }
  }
}

void check_written(const std::ostream& out, const std::filesystem::path& path) {
  if (!out.good()) {
    throw std::runtime_error("cannot write " + path.string() + ": " +
                             (errno != 0 ? std::strerror(errno) : "write failed"));
  }
}

RunLock::RunLock(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd_);
    if (error == EWOULDBLOCK) {
      throw std::runtime_error("run directory " + dir.string() +
                               " is in use by another nabla train (it holds " + path.string() +
                               "); wait for it or choose another --out");
    }
    throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
  }
}

RunLock::~RunLock() { ::close(fd_); }

// ---- metrics log and curves ---------------------------------------------------------------

std::uintmax_t read_metrics(const std::filesystem::path& path, std::int64_t last_iteration,
                            Metrics& m) {
  std::ifstream in(path);
  std::string line;
  std::uintmax_t kept = 0;
  if (!std::getline(in, line) || in.eof()) return 0;  // header (none: the file is remade)
  kept = line.size() + 1;
  while (std::getline(in, line) && !in.eof()) {
    std::vector<std::string> f;
    std::size_t start = 0;
    for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos;
         start = comma + 1) {
      f.push_back(line.substr(start, comma - start));
    }
    f.push_back(line.substr(start));
    if (f.size() == 5 && !f[0].empty()) {
      try {
        double iteration = std::stod(f[0]);
        if (iteration > static_cast<double>(last_iteration)) break;
        double loss = std::stod(f[1]);
        m.iters.push_back(iteration);
        m.losses.push_back(loss);
        if (!f[2].empty() && !f[3].empty()) {
          double train_acc = std::stod(f[2]), test_acc = std::stod(f[3]);
          m.eval_iters.push_back(iteration);
          m.train_acc.push_back(train_acc);
          m.test_acc.push_back(test_acc);
        }
      } catch (const std::exception&) {
        // not a row of ours: kept in the file, left out of the curves
      }
    }
    kept += line.size() + 1;
  }
  return kept;
}

void write_curves(const std::filesystem::path& path, const Metrics& m, const std::string& title) {
  // Thin the loss curve to at most ~2000 points so the file stays small.
  Series loss{"loss", "#1f77b4", {}, {}};
  std::size_t stride = std::max<std::size_t>(1, m.iters.size() / 2000);
  for (std::size_t i = 0; i < m.iters.size(); i += stride) {
    loss.x.push_back(m.iters[i]);
    loss.y.push_back(m.losses[i]);
  }
  Panel left{"loss: " + title, "iteration", "loss", {loss}};
  Panel right{"accuracy",
              "iteration",
              "accuracy",
              {{"train acc", "#2ca02c", m.eval_iters, m.train_acc},
               {"test acc", "#d62728", m.eval_iters, m.test_acc}}};
  right.fit_after_first = true;  // the untrained model's chance accuracy would flatten it
  errno = 0;
  std::ofstream out(path);
  out << svg_chart({left, right});
  out.close();
  if (out.fail()) {
    throw std::runtime_error("cannot write " + path.string() + ": " +
                             (errno != 0 ? std::strerror(errno) : "write failed"));
  }
}

// ---- progress -----------------------------------------------------------------------------

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
