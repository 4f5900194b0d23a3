// Standard output, checked (output.h).
#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "nabla/core/tensor.h"  // DataError

namespace nabla::cli {

void flush_stdout() {
  errno = 0;
  std::cout.flush();  // (synchronised with stdio: writes through to stdout)
  const bool flushed = std::fflush(stdout) == 0;
  int error = errno;
  if (flushed && !std::ferror(stdout) && std::cout.good()) return;
  // A write that failed earlier (a long --help) left the error flag, and its cause is gone:
  // a byte more, on output that is lost anyway, finds it if it is still there.
  if (error == 0 && ::write(STDOUT_FILENO, "\n", 1) < 0) error = errno;
  throw DataError(std::string("cannot write to standard output: ") +
                  (error != 0 ? std::strerror(error) : "an earlier write failed"));
}

}  // namespace nabla::cli
