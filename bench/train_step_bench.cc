// Whole steps of the recipe (float32, synthetic uint8 data shaped like MNIST):
//   BM_TrainStep       one iteration through the layer API: gather a dense batch, forward,
//                      backward, SGD update;
//   BM_Evaluate10k     accuracy on 10,000 images with evaluate_accuracy (dense blocks);
//   BM_TrainerStep     one iteration of `nabla train` (Trainer::step);
//   BM_TrainerEvaluate one of its 17 evaluations (Trainer::evaluate: 70,000 images).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "bench_util.h"
#include "nabla/nn/network.h"
#include "nabla/ops/ops.h"
#include "nabla/train/optim.h"
#include "nabla/train/train.h"

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

BENCHMARK(BM_GatherBatch)->UseRealTime();

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
    net.zero_grad();
    double loss = net.gradient(x, Targets(labels));
    sgd.step(params);
    benchmark::DoNotOptimize(loss);
  }
  set_gflops(state, train_step_flops());
}

BENCHMARK(BM_TrainStep)->UseRealTime();

// Accuracy on 10,000 images (the test set's size) by evaluate_accuracy on the dense
// uint8 images, converted to float block by block.
void BM_Evaluate10k(benchmark::State& state) {
  const Dataset data = synthetic_dataset(10000, 2);
  Rng rng(42);
  Sequential net = make_two_layer_net(kInputs, kHidden, kClasses, 0.01, rng);
  for (auto _ : state) {
    double accuracy = evaluate_accuracy(net, data, state.range(0));
    benchmark::DoNotOptimize(accuracy);
  }
  set_gflops(state, predict_flops(data.size));
}

BENCHMARK(BM_Evaluate10k)
    ->UseRealTime()
    ->ArgName("block")
    ->Arg(kEvalBlock)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

// What `nabla train` runs, on a synthetic MNIST with MNIST's share of zero pixels:
// Trainer::step (one iteration of the recipe) and Trainer::evaluate (one of its 17
// evaluations: all 60,000 training and 10,000 test images). The GFLOP/s count the dense
// products' FLOPs, as the recipe's floor does, whatever the kernels skip.
void BM_TrainerStep(benchmark::State& state) {
  const Mnist data = synthetic_mnist();
  TrainConfig config;  // the textbook recipe
  config.iters = std::int64_t{1} << 40;
  Trainer trainer(config, data);
  for (auto _ : state) {
    double loss = trainer.step();
    benchmark::DoNotOptimize(loss);
  }
  set_gflops(state, train_step_flops());
}

void BM_TrainerEvaluate(benchmark::State& state) {
  const Mnist data = synthetic_mnist();
  Trainer trainer(TrainConfig{}, data);
  trainer.step();
  for (auto _ : state) {
    Evaluation e = trainer.evaluate();
    benchmark::DoNotOptimize(e);
  }
  set_gflops(state, predict_flops(data.train.size + data.test.size));
}

BENCHMARK(BM_TrainerStep)->UseRealTime();
BENCHMARK(BM_TrainerEvaluate)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nabla::bench
