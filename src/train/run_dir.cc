// The run directory and its lock (see nabla/train/run_dir.h).
#include "nabla/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "nabla/core/safetensors.h"

namespace nabla {

std::filesystem::path make_run_dir(const std::filesystem::path& parent, std::time_t when) {
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&when));
  std::filesystem::create_directories(parent);
  for (int n = 1;; ++n) {
    std::string name = stamp;
    if (n > 1) name += '-' + std::to_string(n);
    std::filesystem::path dir = parent / name;
    if (std::filesystem::create_directory(dir)) return dir;  // false: taken
  }
}

RunDirTaken::RunDirTaken(std::filesystem::path dir, std::string file)
    : std::runtime_error("run directory " + dir.string() + " already holds " + file +
                         " (another run?)"),
      dir_(std::move(dir)),
      file_(std::move(file)) {}

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
    const std::string name = entry.path().filename().string();
    if (name != ".lock" && !is_save_leftover(name)) {
      throw RunDirTaken(dir, entry.path().filename().string());
    }
  }
}

std::vector<std::string> remove_save_leftovers(const std::filesystem::path& dir) {
  std::vector<std::string> removed;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    std::error_code ec;
    if (is_save_leftover(name) && entry.is_regular_file(ec) &&
        std::filesystem::remove(entry.path(), ec)) {
      removed.push_back(std::move(name));
    }
  }
  return removed;
}

void check_written(const std::ostream& out, const std::filesystem::path& path) {
  if (!out.good()) {
    throw std::runtime_error("cannot write " + path.string() + ": " +
                             (errno != 0 ? std::strerror(errno) : "write failed"));
  }
}

RunDirLocked::RunDirLocked(std::filesystem::path dir)
    : std::runtime_error("run directory " + dir.string() + " is in use by another run (it holds " +
                         (dir / ".lock").string() + ")"),
      dir_(std::move(dir)) {}

RunLock::RunLock(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd_);
    if (error == EWOULDBLOCK) throw RunDirLocked(dir);
    throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
  }
}

RunLock::~RunLock() { ::close(fd_); }

}  // namespace nabla
