// nabla_peak_gemm: the best single-precision matrix-product rate of this machine right
// now, measured with OpenBLAS's sgemm on square matrices using all of its threads.
//
//   build/nabla_peak_gemm                 # "PEAK gflops=... size=... threads=... core=..."
//   build/nabla_peak_gemm --recipe        # also the rates at the recipe's shapes
//   OPENBLAS_CORETYPE=SKYLAKEX build/nabla_peak_gemm   # choose OpenBLAS's kernels
//   build/nabla_peak_gemm --one-core      # also one thread's sgemm rate and the rate at
//                                         # which one core reads a W1-sized block from L2
//
// scripts/bench.sh divides the recipe's FLOPs by this rate to get the dense floor, and
// uses the --one-core rates for the sparse-work floor (bench/sparse_floor.py).
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
  const char* name;
  int m, n, k;
  bool trans_a, trans_b;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The best rate, in units of `work` per second (x 1e-9), of calling run() over `trials`
// timed batches, each long enough (about min_seconds) for the clock to be accurate.
template <class Run>
double best_rate(Run run, double work, int trials, double min_seconds) {
  // Warm up (threads started, pages touched) and choose how many calls make a batch.
  auto start = std::chrono::steady_clock::now();
  run();
  long calls = 1;
  while (seconds_since(start) < min_seconds / 4) {
    run();
    ++calls;
  }
  const double per_call = seconds_since(start) / static_cast<double>(calls);
  const long batch = std::max(1L, static_cast<long>(min_seconds / per_call));

  double best = 0;
  for (int t = 0; t < trials; ++t) {
    start = std::chrono::steady_clock::now();
    for (long i = 0; i < batch; ++i) run();
    best = std::max(best, work * static_cast<double>(batch) / seconds_since(start) * 1e-9);
  }
  return best;
}

// Best rate in GFLOP/s of C (m, n) = op(A) . op(B).
double best_gflops(const Shape& s, int trials, double min_seconds) {
  std::mt19937 engine(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n),
      c(static_cast<std::size_t>(s.m) * s.n);
  for (float& x : a) x = dist(engine);
  for (float& x : b) x = dist(engine);
  // Row-major leading dimensions of the stored A (m, k) or (k, m), B (k, n) or (n, k).
  const int lda = s.trans_a ? s.m : s.k, ldb = s.trans_b ? s.k : s.n;
  auto run = [&] {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                s.trans_b ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(),
                ldb, 0.0f, c.data(), s.n);
  };
  return best_rate(run, 2.0 * s.m * s.n * s.k, trials, min_seconds);
}

// Best rate in GB/s at which one thread reads `bytes` (two vectors of half that each, in
// L2 once the first pass has brought them in) with OpenBLAS's sdot, a read-bound loop.
double best_read_gbytes(std::size_t bytes, int trials, double min_seconds) {
  const int n = static_cast<int>(bytes / 2 / sizeof(float));
  std::vector<float> x(static_cast<std::size_t>(n), 0.5f), y(static_cast<std::size_t>(n), 0.25f);
  volatile float sink = 0;
  auto run = [&] { sink = sink + cblas_sdot(n, x.data(), 1, y.data(), 1); };
  return best_rate(run, 2.0 * n * sizeof(float), trials, min_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  bool recipe = false, one_core = false;
  int size = 2048;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--recipe") == 0) {
      recipe = true;
    } else if (std::strcmp(argv[i], "--one-core") == 0) {
      one_core = true;
    } else if (std::strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
      size = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--size N] [--recipe] [--one-core]\n", argv[0]);
      return 2;
    }
  }
  if (size <= 0) {
    std::fprintf(stderr, "nabla_peak_gemm: --size must be positive\n");
    return 2;
  }

  const int threads = openblas_get_num_threads();
  const char* core = openblas_get_corename();
  if (recipe) {
    // The products of one training step and one evaluation block (see gemm_bench.cc).
    const Shape shapes[] = {
        {"forward1 100x784.784x50", 100, 50, 784, false, false},
        {"dW1 784x100.100x50 (A^T)", 784, 50, 100, true, false},
        {"dX1 100x50.50x784 (B^T)", 100, 784, 50, false, true},
        {"forward2 100x50.50x10", 100, 10, 50, false, false},
        {"eval1 2000x784.784x50", 2000, 50, 784, false, false},
    };
    for (int t : {1, threads}) {
      openblas_set_num_threads(t);
      for (const Shape& s : shapes) {
        std::printf("SHAPE %-28s threads=%d gflops=%.1f\n", s.name, t, best_gflops(s, 5, 0.1));
      }
      if (threads == 1) break;
    }
    openblas_set_num_threads(threads);
  }
  const Shape square{"square", size, size, size, false, false};
  if (one_core) {
    // The recipe's W1 (784 x 50 floats, 157 KB): larger than any L1, inside any L2.
    const std::size_t w1_bytes = 784 * 50 * sizeof(float);
    openblas_set_num_threads(1);
    std::printf("ONECORE gflops=%.1f l2_read_gbytes=%.1f read_bytes=%zu\n",
                best_gflops(square, 5, 0.2), best_read_gbytes(w1_bytes, 10, 0.1), w1_bytes);
    openblas_set_num_threads(threads);
  }
  const double peak = best_gflops(square, 10, 0.2);
  std::printf("PEAK gflops=%.1f size=%d threads=%d core=%s\n", peak, size, threads,
              core ? core : "?");
  return 0;
}
