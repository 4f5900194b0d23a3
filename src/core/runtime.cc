// Process-wide settings for speed (nabla/core/runtime.h), BLAS's included.
#include "nabla/core/runtime.h"

#include <string>  // (first: it defines __GLIBC__ on glibc)

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cblas.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "kernels/kernels.h"
#include "nabla/core/tensor.h"

namespace nabla {

void set_blas_threads(int threads) { openblas_set_num_threads(threads); }

int blas_threads() { return openblas_get_num_threads(); }

std::string blas_core() {
  const char* name = openblas_get_corename();
  return name != nullptr ? name : "";
}

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

std::string better_blas_coretype() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";
  std::string core = blas_core();
  std::transform(core.begin(), core.end(), core.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto one_of = [&](std::initializer_list<const char*> names) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return core == n; });
  };
  // OpenBLAS's kernels for x86-64 CPUs with AVX-512, and with AVX2 and FMA
  const bool avx512 = one_of({"skylakex", "cooperlake", "sapphirerapids"});
  const bool avx2 = avx512 || one_of({"haswell", "zen"});
  // the level nabla's kernels run at: the CPU's best, or the lower one NABLA_ISA asks for
  // (without kernel_isa()'s warning, which the command, started again, gives)
  kernels::Isa level = kernels::runnable_isas().back();
  const char* asked = std::getenv("NABLA_ISA");
  for (kernels::Isa lower : {kernels::Isa::scalar, kernels::Isa::avx2}) {
    if (asked != nullptr && asked == std::string(kernels::isa_name(lower)) && lower < level &&
        kernels::table_for(lower) != nullptr) {
      level = lower;
    }
  }
  if (level == kernels::Isa::avx512 && !avx512) return "SKYLAKEX";
  if (level == kernels::Isa::avx2 && !avx2) return "HASWELL";
  return "";
}

}  // namespace nabla
