// nabla — build and train neural networks by backpropagation.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "cli.h"
#include "nabla/core/runtime.h"

namespace {

// OpenBLAS reads OPENBLAS_CORETYPE once, when it loads: where its own choice of kernels is
// slower than this CPU allows (nabla/runtime.h), set it and start again (if that fails,
// go on with OpenBLAS's choice).
void restart_with_faster_blas(char** argv) {
  const std::string core = nabla::better_blas_coretype();
  if (core.empty() || ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_faster_blas(argv);
  // Freed memory kept for reuse (nabla/runtime.h); `nabla train` sets its BLAS threads.
  nabla::configure_runtime();
  return nabla::cli::run_cli(argc, argv);
}
