#include "core/input_file.h"

#include <sys/stat.h>

#include "nabla/core/tensor.h"  // DataError

namespace nabla {
namespace {

// What a file that is not a regular one is, for messages.
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISFIFO(mode)) return "a FIFO (a pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

}  // namespace

void check_regular_file(const std::string& path, const char* what) {
  if (path.empty()) throw DataError(std::string("empty path where ") + what + " was expected");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;
  throw DataError(path + ": is " + kind_of(st.st_mode) + ", not " + what);
}

}  // namespace nabla
