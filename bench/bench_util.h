// Shared pieces of the benchmarks: the recipe's shapes, synthetic data, FLOP counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>

#include "nabla/core/tensor.h"
#include "nabla/data/mnist.h"

namespace nabla::bench {

// The textbook recipe: TwoLayerNet 784-50-10, batches of 100, evaluation in blocks.
inline constexpr std::int64_t kInputs = 784;
inline constexpr std::int64_t kHidden = 50;
inline constexpr std::int64_t kClasses = 10;
inline constexpr std::int64_t kBatch = 100;
inline constexpr std::int64_t kEvalBlock = 2000;

// 2 * m * n * k: one multiply and one add per term of an (m, k) . (k, n) product.
inline double gemm_flops(std::int64_t m, std::int64_t n, std::int64_t k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

// Reports `flops` per iteration as a rate in GFLOP/s. Every benchmark uses real time
// (UseRealTime): OpenBLAS may compute on threads whose CPU time the main one does not see.
inline void set_gflops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// MNIST's share of non-zero pixels (19.1% in the training set, 19.3% in the test set).
inline constexpr double kMnistNonzero = 0.191;

// A data set shaped like MNIST, so no files are needed: each pixel is non-zero with
// probability `nonzero` (then uniform in 1..255), labels uniform in 0..9.
inline Dataset synthetic_dataset(std::int64_t size, std::uint64_t seed = 1,
                                 double nonzero = kMnistNonzero) {
  Dataset data;
  data.size = size;
  data.images.resize(static_cast<std::size_t>(size * data.features));
  data.labels.resize(static_cast<std::size_t>(size));
  std::mt19937 engine(static_cast<std::mt19937::result_type>(seed));
  std::bernoulli_distribution lit(nonzero);
  std::uniform_int_distribution<int> pixel(1, 255), label(0, 9);
  for (auto& p : data.images) p = lit(engine) ? static_cast<std::uint8_t>(pixel(engine)) : 0;
  for (auto& l : data.labels) l = static_cast<std::uint8_t>(label(engine));
  return data;
}

// A synthetic MNIST: 60,000 training and 10,000 test images.
inline Mnist synthetic_mnist() {
  return {synthetic_dataset(60000, 1), synthetic_dataset(10000, 2)};
}

}  // namespace nabla::bench
