// The layers of the two-layer net at the recipe's shapes (float32): Affine forward and
// backward, ReLU forward and backward, SoftmaxWithLoss forward + backward.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench_util.h"
#include "nabla/nn/layers.h"

namespace nabla::bench {
namespace {

// Arguments: batch N, inputs D, outputs M.
void BM_AffineForward(benchmark::State& state) {
  const std::int64_t n = state.range(0), d = state.range(1), m = state.range(2);
  Rng rng(7);
  Affine affine(d, m, 0.01, rng);
  Tensor x = Tensor::uniform({n, d}, rng, 0, 1);
  for (auto _ : state) {
    Tensor y = affine.forward(x);
    benchmark::DoNotOptimize(y.raw());
  }
  set_gflops(state, gemm_flops(n, m, d));
}

// Arguments: batch N, inputs D, outputs M, and whether dX is computed (a first layer
// needs none: the recipe's Affine1 skips it).
void BM_AffineBackward(benchmark::State& state) {
  const std::int64_t n = state.range(0), d = state.range(1), m = state.range(2);
  const bool input_grad = state.range(3) != 0;
  Rng rng(7);
  Affine affine(d, m, 0.01, rng);
  affine.set_input_grad(input_grad);
  Tensor x = Tensor::uniform({n, d}, rng, 0, 1);
  Tensor dout = Tensor::uniform({n, m}, rng, -0.01, 0.01);
  affine.forward(x);
  for (auto _ : state) {
    Tensor dx = affine.backward(dout);  // dW += X^T.dY, db += sum(dY), dX = dY.W^T
    benchmark::DoNotOptimize(dx.raw());
    benchmark::DoNotOptimize(affine.W().grad().raw());
  }
  // dW (and dX) products; the bias sum is n * m adds.
  const double flops =
      gemm_flops(d, m, n) + (input_grad ? gemm_flops(n, d, m) : 0.0) + static_cast<double>(n * m);
  set_gflops(state, flops);
}

BENCHMARK(BM_AffineForward)
    ->UseRealTime()
    ->ArgNames({"N", "D", "M"})
    ->Args({kBatch, kInputs, kHidden})
    ->Args({kBatch, kHidden, kClasses})
    ->Args({kEvalBlock, kInputs, kHidden});
BENCHMARK(BM_AffineBackward)
    ->UseRealTime()
    ->ArgNames({"N", "D", "M", "dX"})
    ->Args({kBatch, kInputs, kHidden, 0})
    ->Args({kBatch, kInputs, kHidden, 1})
    ->Args({kBatch, kHidden, kClasses, 1});

void BM_ReluForward(benchmark::State& state) {
  Rng rng(7);
  Relu relu;
  Tensor x = Tensor::uniform({kBatch, kHidden}, rng, -1, 1);
  for (auto _ : state) {
    Tensor y = relu.forward(x);
    benchmark::DoNotOptimize(y.raw());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kHidden);
}

void BM_ReluBackward(benchmark::State& state) {
  Rng rng(7);
  Relu relu;
  Tensor x = Tensor::uniform({kBatch, kHidden}, rng, -1, 1);
  Tensor dout = Tensor::uniform({kBatch, kHidden}, rng, -1, 1);
  relu.forward(x);
  for (auto _ : state) {
    Tensor dx = relu.backward(dout);
    benchmark::DoNotOptimize(dx.raw());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kHidden);
}

BENCHMARK(BM_ReluForward)->UseRealTime();
BENCHMARK(BM_ReluBackward)->UseRealTime();

// Softmax, cross-entropy and (y - t) / N for a batch of 100 scores over 10 classes.
void BM_SoftmaxWithLoss(benchmark::State& state) {
  Rng rng(7);
  SoftmaxWithLoss loss;
  Tensor scores = Tensor::uniform({kBatch, kClasses}, rng, -3, 3);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(kBatch));
  for (auto& l : labels) l = rng.below(kClasses);
  const Targets targets(labels);
  for (auto _ : state) {
    double value = loss.forward(scores, targets);
    Tensor dscores = loss.backward(1.0);
    benchmark::DoNotOptimize(value);
    benchmark::DoNotOptimize(dscores.raw());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_SoftmaxWithLoss)->UseRealTime();

}  // namespace
}  // namespace nabla::bench
