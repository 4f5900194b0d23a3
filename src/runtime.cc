// Process-wide settings for speed (nabla/runtime.h).
#include "nabla/runtime.h"

#include <string>  // (first: it defines __GLIBC__ on glibc)

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "nabla/ops.h"
#include "nabla/tensor.h"

namespace nabla {

void configure_runtime(const RuntimeOptions& options) {
  if (options.blas_threads < 0) {
    throw ValueError("configure_runtime: blas_threads must be 0 (BLAS's choice) or more, got " +
                     std::to_string(options.blas_threads));
  }
#if defined(__GLIBC__)
  if (options.keep_freed_memory) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
  }
#endif
  if (options.blas_threads > 0) set_blas_threads(options.blas_threads);
}

}  // namespace nabla
