// Whole steps of the recipe through the public API (float32, synthetic uint8 data):
// one training iteration (gather a batch, forward, backward, SGD update) and one
// evaluation of a 10,000-image set (the test set's size) in blocks of 2000.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "bench_util.h"
#include "nabla/network.h"
#include "nabla/ops.h"
#include "nabla/optim.h"

namespace nabla::bench {
namespace {

// FLOPs of one training step: forward 1 and 2, dW1, dW2 and dH (no dX for the input layer).
double train_step_flops() {
  return gemm_flops(kBatch, kHidden, kInputs) + gemm_flops(kInputs, kHidden, kBatch) +
         3 * gemm_flops(kBatch, kClasses, kHidden);
}

// FLOPs of predicting n images: the two forward products.
double predict_flops(std::int64_t n) {
  return gemm_flops(n, kHidden, kInputs) + gemm_flops(n, kClasses, kHidden);
}

// Drawing 100 indices with replacement and gathering their pixels as floats.
void BM_GatherBatch(benchmark::State& state) {
  const Dataset data = synthetic_dataset(60000);
  BatchSampler sampler(data.size, kBatch, Sampling::with_replacement);
  Rng rng(42);
  std::vector<std::int64_t> indices, labels;
  Tensor x;
  for (auto _ : state) {
    sampler.next(rng, indices);
    gather_batch(data, indices, x, labels);
    benchmark::DoNotOptimize(x.raw());
  }
  state.SetBytesProcessed(state.iterations() * kBatch * kInputs);
}

BENCHMARK(BM_GatherBatch);

// One iteration of the textbook loop: batch, gradient by backprop, p -= lr * grad.
void BM_TrainStep(benchmark::State& state) {
  const Dataset data = synthetic_dataset(60000);
  Rng rng(42);
  Sequential net = make_two_layer_net(kInputs, kHidden, kClasses, 0.01, rng);
  std::vector<Var> params = net.parameters();
  SGD sgd(0.1);
  BatchSampler sampler(data.size, kBatch, Sampling::with_replacement);
  std::vector<std::int64_t> indices, labels;
  Tensor x;
  for (auto _ : state) {
    sampler.next(rng, indices);
    gather_batch(data, indices, x, labels);
    for (Var& p : params) {
      if (p.has_grad()) p.grad().fill(0);  // keeps the storage, unlike zero_grad()
    }
    double loss = net.gradient(x, Targets(labels));
    sgd.step(params);
    benchmark::DoNotOptimize(loss);
  }
  set_gflops(state, train_step_flops());
}

BENCHMARK(BM_TrainStep);

// Accuracy on 10,000 images, converted to float block by block as evaluation does.
void BM_Evaluate10k(benchmark::State& state) {
  const std::int64_t size = 10000;
  const std::int64_t block = state.range(0);
  const Dataset data = synthetic_dataset(size, 2);
  Rng rng(42);
  Sequential net = make_two_layer_net(kInputs, kHidden, kClasses, 0.01, rng);
  for (auto _ : state) {
    std::int64_t correct = 0;
    for (std::int64_t begin = 0; begin < size; begin += block) {
      const std::int64_t count = std::min(block, size - begin);
      Tensor x = images_as_tensor(data, begin, count);
      std::vector<std::int64_t> labels = labels_as_vector(data, begin, count);
      std::vector<std::int64_t> predicted = argmax_rows(net.predict(x));
      for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == labels[i];
    }
    benchmark::DoNotOptimize(correct);
  }
  set_gflops(state, predict_flops(size));
}

BENCHMARK(BM_Evaluate10k)->ArgName("block")->Arg(kEvalBlock)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nabla::bench
