// Shared pieces of the benchmarks: the recipe's shapes, synthetic data, FLOP counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>

#include "nabla/mnist.h"
#include "nabla/tensor.h"

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

// Reports `flops` per iteration as a rate in GFLOP/s.
inline void set_gflops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// A data set of random pixels and labels, shaped like MNIST, so no files are needed.
inline Dataset synthetic_dataset(std::int64_t size, std::uint64_t seed = 1) {
  Dataset data;
  data.size = size;
  data.images.resize(static_cast<std::size_t>(size * data.features));
  data.labels.resize(static_cast<std::size_t>(size));
  std::mt19937 engine(static_cast<std::mt19937::result_type>(seed));
  std::uniform_int_distribution<int> pixel(0, 255), label(0, 9);
  for (auto& p : data.images) p = static_cast<std::uint8_t>(pixel(engine));
  for (auto& l : data.labels) l = static_cast<std::uint8_t>(label(engine));
  return data;
}

}  // namespace nabla::bench
