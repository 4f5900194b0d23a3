// nabla_cnn_epoch: one epoch of the textbook's SimpleConvNet on MNIST, timed — the nabla
// side of `scripts/bench.sh --task cnn`.
//
// conv 30 filters 5x5 (stride 1, pad 0) -> ReLU -> max-pool 2x2 -> affine 100 -> ReLU ->
// affine 10, softmax with loss; weights 0.01 N(0, 1), Adam lr 0.001, batch 100; 600 steps
// over a shuffled epoch, then the accuracy on the 10,000 test images.
//
//   build/nabla_cnn_epoch [--data DIR] [--steps N] [--seed N] [--threads N] [--profile]
//
// Ends with one line
//   RESULT name=nabla wall_s=... train_s=... eval_s=... test_acc=... rss_mb=...
// --profile adds, per layer, the seconds of CPU time spent in forward and in backward (of
// the calling thread: with --threads 1 all of it).
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "nabla/core/runtime.h"
#include "nabla/data/mnist.h"
#include "nabla/nn/cnn_layers.h"
#include "nabla/nn/network.h"
#include "nabla/ops/ops.h"
#include "nabla/train/optim.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
  std::optional<std::string> data;
  std::int64_t steps = 600;
  std::uint64_t seed = 42;
  // nabla's threads, as `nabla train --threads` (default: the cores, at most 2): the
  // layers that split their work (the convolution's images) use them; BLAS runs on one.
  int threads = 0;
  bool profile = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data") {
      o.data = value();
    } else if (arg == "--steps") {
      o.steps = std::stoll(value());
    } else if (arg == "--seed") {
      o.seed = std::stoull(value());
    } else if (arg == "--threads") {
      o.threads = std::stoi(value());
    } else if (arg == "--profile") {
      o.profile = true;
    } else {
      throw std::invalid_argument(
          "unknown argument " + arg +
          " (known: --data DIR, --steps N, --seed N, --threads N, --profile)");
    }
  }
  return o;
}

nabla::Sequential simple_convnet(nabla::Rng& rng) {
  using namespace nabla;
  Sequential net;
  net.emplace<Conv2D>(1, 30, 5, 1, 0, 0.01, rng);  // (N, 1, 28, 28) -> (N, 30, 24, 24)
  net.emplace<Relu>();
  net.emplace<MaxPool2D>(2);                          // -> (N, 30, 12, 12)
  net.emplace<Affine>(30 * 12 * 12, 100, 0.01, rng);  // flattens its input
  net.emplace<Relu>();
  net.emplace<Affine>(100, 10, 0.01, rng);
  net.set_loss(std::make_unique<SoftmaxWithLoss>());
  return net;
}

// This thread's CPU time in seconds: on a busy machine steadier than the wall clock.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Sequential::gradient's forward and backward, layer by layer, adding each layer's CPU time.
double profiled_gradient(nabla::Sequential& net, const nabla::Tensor& x, const nabla::Targets& t,
                         std::vector<double>& fwd, std::vector<double>& bwd) {
  net.layer(0).set_input_grad(false);
  nabla::Tensor h = x;
  for (std::size_t i = 0; i < net.size(); ++i) {
    const double start = thread_seconds();
    h = net.layer(i).forward(h);
    fwd[i] += thread_seconds() - start;
  }
  const double loss = net.loss_layer().forward(h, t);
  nabla::Tensor d = net.loss_layer().backward(1.0);
  for (std::size_t i = net.size(); i-- > 0;) {
    const double start = thread_seconds();
    d = net.layer(i).backward(d);
    bwd[i] += thread_seconds() - start;
  }
  return loss;
}

int run(const Options& o) {
  using namespace nabla;
  const auto wall_start = Clock::now();
  set_blas_threads(1);
  const int threads =
      o.threads > 0
          ? o.threads
          : std::min(2, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  const Mnist mnist = load_mnist(resolve_data_dir(o.data));
  Rng rng(o.seed);
  Sequential net = simple_convnet(rng);
  net.set_threads(threads);
  Adam adam(0.001);
  std::vector<Var> params = net.parameters();
  BatchSampler sampler(mnist.train.size, 100, Sampling::shuffled_epochs);
  std::vector<std::int64_t> indices, labels;
  Tensor x;
  std::vector<double> fwd(net.size()), bwd(net.size());

  const auto train_start = Clock::now();
  double loss = 0;
  for (std::int64_t step = 0; step < o.steps; ++step) {
    sampler.next(rng, indices);
    gather_batch(mnist.train, indices, x, labels);  // (B, 784); reuses x's storage
    const std::int64_t n = x.size(0);
    x = std::move(x).reshape({n, 1, 28, 28});
    net.zero_grad();
    const Targets t(labels);
    loss = o.profile ? profiled_gradient(net, x, t, fwd, bwd) : net.gradient(x, t);
    adam.step(params);
  }
  const double train_s = seconds_since(train_start);

  const auto eval_start = Clock::now();
  std::int64_t correct = 0;
  const std::int64_t block = 100;  // the training batch size: the same tensor sizes, reused
  for (std::int64_t begin = 0; begin < mnist.test.size; begin += block) {
    const std::int64_t count = std::min(block, mnist.test.size - begin);
    Tensor xb = images_as_tensor(mnist.test, begin, count).reshape({count, 1, 28, 28});
    const Tensor scores = net.predict(xb);
    const std::vector<std::int64_t> t = labels_as_vector(mnist.test, begin, count);
    for (std::int64_t i = 0; i < count; ++i) {
      std::int64_t best = 0;
      for (std::int64_t k = 1; k < 10; ++k) {
        if (scores.at({i, k}) > scores.at({i, best})) best = k;
      }
      correct += best == t[static_cast<std::size_t>(i)] ? 1 : 0;
    }
  }
  const double eval_s = seconds_since(eval_start);
  const double test_acc = static_cast<double>(correct) / static_cast<double>(mnist.test.size);

  if (o.profile) {
    for (std::size_t i = 0; i < net.size(); ++i) {
      std::printf("PROFILE layer=%zu kind=%s forward_s=%.3f backward_s=%.3f\n", i + 1,
                  net.layer(i).kind().c_str(), fwd[i], bwd[i]);
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("last loss %.4f\n", loss);
  std::printf(
      "RESULT name=nabla wall_s=%.3f train_s=%.3f eval_s=%.3f test_acc=%.4f rss_mb=%.1f "
      "threads=%d\n",
      seconds_since(wall_start), train_s, eval_s, test_acc,
      static_cast<double>(usage.ru_maxrss) / 1024.0, threads);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As the nabla CLI does: keep freed memory for reuse, so that the tensors of each step
  // do not fault in fresh pages.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nabla_cnn_epoch: error: %s\n", e.what());
    return 1;
  }
}
