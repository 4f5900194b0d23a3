// Matrix products at the recipe's shapes, through nabla::gemm (float32).
//
// Arguments: M, N, K and whether A and B are transposed, for out (M, N) = op(A) . op(B)
// with op(A) (M, K) and op(B) (K, N). The shapes of one training step and of evaluation:
//   forward 1      X (100,784) . W1 (784,50)
//   dW1            X^T (784,100) . dY1 (100,50)
//   dX1            dY1 (100,50) . W1^T (50,784)     (the recipe skips it: input layer)
//   forward 2      H (100,50) . W2 (50,10)
//   dW2            H^T (50,100) . dY2 (100,10)
//   dH             dY2 (100,10) . W2^T (10,50)
//   eval 1         X (2000,784) . W1 (784,50)       (one evaluation block)
//   eval 2         H (2000,50) . W2 (50,10)
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "nabla/ops/ops.h"

namespace nabla::bench {
namespace {

void BM_Gemm(benchmark::State& state) {
  const std::int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const bool trans_a = state.range(3) != 0, trans_b = state.range(4) != 0;
  Rng rng(7);
  // Stored shapes: A is (K, M) when transposed, B is (N, K) when transposed.
  Tensor a = Tensor::uniform(trans_a ? Shape{k, m} : Shape{m, k}, rng, -1, 1);
  Tensor b = Tensor::uniform(trans_b ? Shape{n, k} : Shape{k, n}, rng, -1, 1);
  Tensor out({m, n});
  for (auto _ : state) {
    gemm(a, trans_a, b, trans_b, 1.0, 0.0, out);
    benchmark::DoNotOptimize(out.raw());
    benchmark::ClobberMemory();
  }
  set_gflops(state, gemm_flops(m, n, k));
}

BENCHMARK(BM_Gemm)
    ->UseRealTime()
    ->ArgNames({"M", "N", "K", "tA", "tB"})
    ->Args({kBatch, kHidden, kInputs, 0, 0})       // forward 1
    ->Args({kInputs, kHidden, kBatch, 1, 0})       // dW1 = X^T . dY1
    ->Args({kBatch, kInputs, kHidden, 0, 1})       // dX1 = dY1 . W1^T
    ->Args({kBatch, kClasses, kHidden, 0, 0})      // forward 2
    ->Args({kHidden, kClasses, kBatch, 1, 0})      // dW2 = H^T . dY2
    ->Args({kBatch, kHidden, kClasses, 0, 1})      // dH = dY2 . W2^T
    ->Args({kEvalBlock, kHidden, kInputs, 0, 0})   // eval 1
    ->Args({kEvalBlock, kClasses, kHidden, 0, 0})  // eval 2
    ->Args({2048, 2048, 2048, 0, 0});              // a large square product, for scale

}  // namespace
}  // namespace nabla::bench
