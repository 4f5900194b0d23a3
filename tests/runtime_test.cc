// configure_runtime (nabla/runtime.h): the settings apply, and products still compute.
#include "nabla/runtime.h"

#include <gtest/gtest.h>

#include "nabla/ops.h"
#include "nabla/tensor.h"

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

}  // namespace
}  // namespace nabla
