// configure_runtime (nabla/runtime.h): the settings apply, and products still compute.
#include "nabla/core/runtime.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "nabla/core/cpu.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/ops.h"

namespace nabla {
namespace {

TEST(ConfigureRuntime, AppliesAndMatricesStillMultiply) {
  configure_runtime();
  configure_runtime({.keep_freed_memory = false, .blas_threads = 1});
  Tensor a = Tensor::from({2, 2}, {1, 2, 3, 4}, DType::f32);
  Tensor p = matmul(a, a);  // [[7, 10], [15, 22]]
  EXPECT_EQ(p.get(0), 7);
  EXPECT_EQ(p.get(3), 22);
}

TEST(ConfigureRuntime, RefusesNegativeThreads) {
  try {
    configure_runtime({.blas_threads = -1});
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "configure_runtime: blas_threads must be 0 (BLAS's choice) or more, got -1");
  }
}

TEST(BetterBlasCoretype, NamesKernelsOfTheLevelOrNothing) {
  // Whatever this CPU is: nothing, or the AVX-512 or AVX2 kernels of OpenBLAS; never
  // anything when the user set OPENBLAS_CORETYPE (this process runs with its choice).
  const std::string asked = better_blas_coretype();
  EXPECT_TRUE(asked.empty() || asked == "SKYLAKEX" || asked == "HASWELL") << asked;
  if (!asked.empty()) {
    EXPECT_NE(kernel_isa(), "scalar");
  }
  ::setenv("OPENBLAS_CORETYPE", blas_core().c_str(), 1);
  EXPECT_EQ(better_blas_coretype(), "");
  ::unsetenv("OPENBLAS_CORETYPE");
  // NABLA_ISA=scalar: nabla's kernels are plain C++, and so may OpenBLAS's be
  ::setenv("NABLA_ISA", "scalar", 1);
  EXPECT_EQ(better_blas_coretype(), "");
  ::unsetenv("NABLA_ISA");
}

}  // namespace
}  // namespace nabla
