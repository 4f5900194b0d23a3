// The layers of convolutional networks: the textbook's shapes and numbers, every backward
// checked against central differences in float64 (inputs away from kinks), training vs
// evaluation, state that survives save -> load, random streams that reproduce, errors.
#include "nabla/nn/cnn_layers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "nabla/autograd/gradcheck.h"
#include "nabla/core/safetensors.h"
#include "nabla/nn/network.h"
#include "nabla/ops/ops.h"
#include "nabla/train/optim.h"
#include "nabla/detail/workers.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 1e-6;

using testing_util::random;

// Values 0.1, 0.2, ... in a random order: every pooling window has one clear maximum,
// at least 0.1 above the others, so central differences never cross a kink.
Tensor distinct(Shape shape, std::uint64_t seed) {
  Tensor t(std::move(shape), DType::f64);
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  std::iota(v.begin(), v.end(), 1.0);
  Rng rng(seed);
  std::shuffle(v.begin(), v.end(), rng.engine());
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, 0.1 * v[static_cast<std::size_t>(i)]);
  return t;
}

// A fixed random weighting turns any output into a scalar with a non-trivial gradient.
Var weighted_sum(const Var& y, std::uint64_t seed = 99) {
  return sum(y * Var::constant(random(y.shape(), seed, -1, 1)));
}

void expect_grad_ok(const GradCheckReport& r, double tol = kTol) {
  ASSERT_FALSE(r.params.empty());
  for (const ParamCheck& p : r.params) EXPECT_LE(p.max_rel_error, tol) << p.name;
}

template <class E, class F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const std::string& part : parts) EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

Conv2D f64_conv(std::int64_t c, std::int64_t f, std::int64_t k, std::int64_t stride,
                std::int64_t pad, std::uint64_t seed) {
  return Conv2D(random({f, c, k, k}, seed, -1, 1), random({f}, seed + 1, -1, 1), stride, pad);
}

// ---- Conv2D ---------------------------------------------------------------------------

TEST(Conv2D, SimpleConvNetShapesAndInit) {
  Rng rng(1);
  Conv2D conv(1, 30, 5, 1, 0, 0.01, rng);
  MaxPool2D pool(2);
  EXPECT_EQ(conv.W().shape(), (Shape{30, 1, 5, 5}));
  EXPECT_EQ(conv.b().shape(), (Shape{30}));
  EXPECT_EQ(sum(square(conv.b().value())).item(), 0.0);
  const double sd = std::sqrt(sum(square(conv.W().value())).item() / 750.0);
  EXPECT_NEAR(sd, 0.01, 0.0015);
  const NamedVars params = conv.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "W");
  EXPECT_EQ(params[1].first, "b");

  Tensor x = Tensor::uniform({3, 1, 28, 28}, rng, 0, 1);
  Tensor y = conv.forward(x);
  EXPECT_EQ(y.shape(), (Shape{3, 30, 24, 24}));
  EXPECT_EQ(pool.forward(y).shape(), (Shape{3, 30, 12, 12}));
  // the op and the layer agree
  EXPECT_LE(max_abs_diff(y, conv2d(x, conv.W().value(), conv.b().value())), 1e-6);
}

TEST(Conv2D, ForwardMatchesTheSumOverTheWindow) {
  // x = 1..16 in a 4x4 image, one 2x2 filter [[1, 0], [0, -1]], b = 0.5: each output is
  // x[i][j] - x[i+1][j+1] + 0.5 = -5 + 0.5.
  Tensor x(Shape{1, 1, 4, 4}, DType::f64);
  for (std::int64_t i = 0; i < 16; ++i) x.set(i, static_cast<double>(i + 1));
  Conv2D conv(Tensor::from({1, 1, 2, 2}, {1, 0, 0, -1}), Tensor::from({1}, {0.5}));
  Tensor y = conv.forward(x);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  for (double v : y.to_vector()) EXPECT_DOUBLE_EQ(v, -4.5);
  // stride 2, pad 1: a 3x3 output whose corner (0, 0) sees only x[0][0] (at the -1 tap)
  Conv2D strided(Tensor::from({1, 1, 2, 2}, {1, 0, 0, -1}), Tensor::from({1}, {0.5}), 2, 1);
  Tensor z = strided.forward(x);
  ASSERT_EQ(z.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_DOUBLE_EQ(z.get(0), -1 + 0.5);
  EXPECT_DOUBLE_EQ(z.get(8), 16 + 0.5);  // (2, 2) sees only x[3][3] (at the +1 tap)
}

TEST(Conv2D, GradCheck) {
  for (auto [stride, pad] : {std::pair{1, 0}, std::pair{2, 1}, std::pair{1, 2}}) {
    Conv2D conv = f64_conv(3, 4, 3, stride, pad, 7);
    Var x = Var::parameter(random({2, 3, 6, 5}, 8), "x");
    // Each output sums 27 products, so the differences carry more rounding than one
    // op's: relative 1e-5 (of entries down to 1e-4), absolute 1e-8.
    const GradCheckReport r =
        gradient_check([&] { return weighted_sum(conv(x)); }, {x, conv.W(), conv.b()});
    expect_grad_ok(r, 1e-5);
    for (const ParamCheck& p : r.params) EXPECT_LE(p.max_abs_diff, 1e-8) << p.name;
  }
}

TEST(Conv2D, NoInputGradientWhenNotWanted) {
  Conv2D conv = f64_conv(2, 3, 3, 1, 1, 3);
  conv.set_input_grad(false);
  Tensor x = random({2, 2, 5, 5}, 4);
  Tensor y = conv.forward(x);
  EXPECT_FALSE(conv.backward(Tensor::ones(y.shape(), DType::f64)).defined());
  // db = the number of output positions of both images, for each filter
  EXPECT_DOUBLE_EQ(conv.b().grad().get(0), 2 * 25);
}

TEST(Conv2D, ThreadsGiveTheSameBits) {
  // The images go in two fixed parts whatever the threads: forward, dx, dW and db, and the
  // evaluation, are bit for bit those of one thread. (Batches of 1, 2 and an odd 7.)
  for (std::int64_t n : {1, 2, 7}) {
    Conv2D one = f64_conv(3, 4, 3, 1, 1, 21);
    Conv2D two = f64_conv(3, 4, 3, 1, 1, 21);  // the same weights, parameters of its own
    const Tensor x = random({n, 3, 6, 5}, 22);
    const Tensor dout = random({n, 4, 6, 5}, 23);
    const Tensor y1 = one.forward(x);
    const Tensor dx1 = one.backward(dout);
    EXPECT_TRUE(
        testing_util::same_bits(testing_util::with_threads(2, [&] { return two.forward(x); }), y1))
        << n;
    EXPECT_TRUE(testing_util::same_bits(
        testing_util::with_threads(2, [&] { return two.backward(dout); }), dx1))
        << n;
    EXPECT_TRUE(testing_util::same_bits(two.W().grad(), one.W().grad())) << n;
    EXPECT_TRUE(testing_util::same_bits(two.b().grad(), one.b().grad())) << n;
    // a copy gives the same bits
    Conv2D three = two;
    EXPECT_TRUE(testing_util::same_bits(three.forward(x), y1)) << n;
    two.eval();
    EXPECT_TRUE(
        testing_util::same_bits(testing_util::with_threads(2, [&] { return two.forward(x); }), y1))
        << n;
  }
}

// The threads of this process (Linux: /proc/self/task).
std::size_t thread_count() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<std::size_t>(std::distance(begin(tasks), end(tasks)));
}

TEST(Sequential, LayersShareOneWorkersAndGiveTheBitsOfOneThread) {
  // conv -> relu -> pool -> affine -> relu -> affine, each splitting layer large enough
  // to split (maps of 100 x 8 x 24 x 24, an affine of 100 x 1152 x 160): three Adam
  // steps with two threads end with the parameters of one thread, bit for bit; the
  // network's layers share one helper thread.
  auto make = [] {
    Rng rng(51);
    Sequential net;
    net.emplace<Conv2D>(1, 8, 5, 1, 0, 0.1, rng);
    net.emplace<Relu>();
    net.emplace<MaxPool2D>(2);
    net.emplace<Affine>(8 * 12 * 12, 160, 0.05, rng);
    net.emplace<Relu>();
    net.emplace<Affine>(160, 10, 0.05, rng);
    net.set_loss(std::make_unique<SoftmaxWithLoss>());
    return net;
  };
  Rng data(52);
  const Tensor x = Tensor::randn({100, 1, 28, 28}, data, 1.0, DType::f32);
  std::vector<std::int64_t> labels(100);
  for (auto& l : labels) l = static_cast<std::int64_t>(data.below(10));
  auto train = [&](Sequential& net) {
    Adam adam(0.01);
    std::vector<Var> params = net.parameters();
    for (int step = 0; step < 3; ++step) {
      net.zero_grad();
      net.gradient(x, Targets(labels));
      adam.step(params);
    }
  };
  Sequential one = make(), two = make();
  const std::size_t before = thread_count();
  two.set_threads(2);
  EXPECT_EQ(thread_count(), before + 1);  // one helper, not one per layer
  train(one);
  train(two);
  const std::vector<Var> p1 = one.parameters(), p2 = two.parameters();
  ASSERT_EQ(p1.size(), p2.size());
  for (std::size_t i = 0; i < p1.size(); ++i) {
    EXPECT_TRUE(testing_util::same_bits(p1[i].value(), p2[i].value())) << p1[i].name();
  }
  two.set_threads(1);
  EXPECT_EQ(thread_count(), before);
}

TEST(Conv2D, AppliedTwiceInOneGraph) {
  // conv(conv(x)) with the same weights: both uses add into W's and b's gradients.
  Conv2D conv = f64_conv(2, 2, 3, 1, 1, 11);
  Var x = Var::parameter(random({2, 2, 4, 4}, 12), "x");
  expect_grad_ok(
      gradient_check([&] { return weighted_sum(conv(conv(x))); }, {x, conv.W(), conv.b()}));
}

TEST(Conv2D, EvalKeepsNothingAndBackwardThenFails) {
  Conv2D conv = f64_conv(1, 2, 3, 1, 0, 5);
  conv.eval();
  Tensor y = conv.forward(random({1, 1, 5, 5}, 6));
  expect_error<ValueError>([&] { conv.backward(y); }, {"Conv2D", "training mode"});
}

TEST(Conv2D, ErrorsNameTheLayerAndShapes) {
  Conv2D conv = f64_conv(3, 4, 3, 1, 0, 1);
  expect_error<ShapeError>(
      [&] {
        conv.forward(random({2, 4, 5, 5}, 1));
      },
      {"Conv2D", "(2,4,5,5)", "(N, 3, H, W)"});
  expect_error<ShapeError>([&] { conv.forward(random({2, 3, 5}, 1)); }, {"Conv2D", "(2,3,5)"});
  expect_error<ShapeError>(
      [&] {
        conv.forward(random({2, 3, 2, 5}, 1));
      },
      {"kernel of 3", "height of 2"});
  expect_error<ShapeError>(
      [&] {
        Conv2D(random({4, 3, 3}, 1), random({4}, 1));
      },
      {"Conv2D", "(4,3,3)", "(F, C, KH, KW)"});
  expect_error<ShapeError>(
      [&] {
        Conv2D(random({4, 3, 3, 3}, 1), random({3}, 1));
      },
      {"Conv2D", "b (3)"});
  Tensor y = conv.forward(random({2, 3, 5, 5}, 2));
  expect_error<ShapeError>(
      [&] {
        conv.backward(random({2, 4, 2, 3}, 3));
      },
      {"conv2d backward", "(2,4,2,3)", "(2,4,3,3)"});
}

// ---- pooling ------------------------------------------------------------------------------

TEST(MaxPool2D, ForwardAndRouting) {
  // 1..16 in a 4x4 image: the 2x2 maxima are 6, 8, 14, 16 (each window's bottom right).
  Tensor x(Shape{1, 1, 4, 4}, DType::f64);
  for (std::int64_t i = 0; i < 16; ++i) x.set(i, static_cast<double>(i + 1));
  MaxPool2D pool(2);
  Tensor y = pool.forward(x);
  EXPECT_EQ(y.to_vector(), (std::vector<double>{6, 8, 14, 16}));
  Tensor dx = pool.backward(Tensor::from({1, 1, 2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(dx.to_vector(), (std::vector<double>{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}));
  // 3x3 windows, stride 2, pad 1 over the same image: padding never wins (all x > 0)
  MaxPool2D padded(3, 2, 1);
  EXPECT_EQ(padded.forward(x).to_vector(), (std::vector<double>{6, 8, 14, 16}));
}

TEST(MaxPool2D, ThreadsGiveTheSameBits) {
  // A (4, 8, 48, 48) input is large enough to be split between two threads, plane by
  // plane: forward, backward and evaluation give the bits of one thread, for 2x2 windows
  // (the kernel) and overlapping 3x3 ones of stride 2 (the general loop, adding up).
  for (auto [size, stride] : {std::pair{2, 2}, std::pair{3, 2}}) {
    MaxPool2D one(size, stride), two(size, stride);
    const Tensor x = random({4, 8, 48, 48}, 31);
    const Tensor y = one.forward(x);
    const Tensor dout = random(y.shape(), 32);
    EXPECT_TRUE(
        testing_util::same_bits(testing_util::with_threads(2, [&] { return two.forward(x); }), y))
        << size;
    EXPECT_TRUE(testing_util::same_bits(
        testing_util::with_threads(2, [&] { return two.backward(dout); }), one.backward(dout)))
        << size;
    two.eval();
    EXPECT_TRUE(
        testing_util::same_bits(testing_util::with_threads(2, [&] { return two.forward(x); }), y))
        << size;
  }
}

TEST(MaxPool2D, GradCheck) {
  for (auto [size, stride, pad] : {std::tuple{2, 0, 0}, std::tuple{3, 2, 1}, std::tuple{2, 1, 0}}) {
    MaxPool2D pool(size, stride, pad);
    Var x = Var::parameter(distinct({2, 3, 6, 5}, 3), "x");
    expect_grad_ok(gradient_check([&] { return weighted_sum(pool(x)); }, {x}));
  }
}

TEST(AvgPool2D, ForwardBackwardAndGradCheck) {
  Tensor x(Shape{1, 1, 4, 4}, DType::f64);
  for (std::int64_t i = 0; i < 16; ++i) x.set(i, static_cast<double>(i + 1));
  AvgPool2D pool(2);
  EXPECT_EQ(pool.forward(x).to_vector(), (std::vector<double>{3.5, 5.5, 11.5, 13.5}));
  Tensor dx = pool.backward(Tensor::from({1, 1, 2, 2}, {4, 8, 12, 16}));
  EXPECT_EQ(dx.to_vector(), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // padding counts as zeros: the corner window of 3x3 / stride 2 / pad 1 holds 1, 2, 5, 6
  AvgPool2D padded(3, 2, 1);
  EXPECT_DOUBLE_EQ(padded.forward(x).get(0), (1 + 2 + 5 + 6) / 9.0);
  for (auto [size, stride, pad] : {std::tuple{2, 0, 0}, std::tuple{3, 2, 1}}) {
    AvgPool2D p(size, stride, pad);
    Var v = Var::parameter(random({2, 3, 6, 5}, 4), "x");
    expect_grad_ok(gradient_check([&] { return weighted_sum(p(v)); }, {v}));
  }
}

TEST(Pool2D, ErrorsNameTheLayerAndShapes) {
  MaxPool2D pool(2);
  expect_error<ShapeError>(
      [&] {
        pool.forward(random({2, 8}, 1));
      },
      {"MaxPool2D", "(2,8)", "(N, C, H, W)"});
  AvgPool2D avg(2);
  expect_error<ShapeError>([&] { avg.forward(random({2, 3, 4}, 1)); }, {"AvgPool2D", "(2,3,4)"});
  expect_error<ValueError>([] { MaxPool2D(0); }, {"MaxPool2D", "size 0"});
  expect_error<ShapeError>(
      [&] {
        MaxPool2D(2, 2, 2).forward(random({1, 1, 4, 4}, 1));
      },
      {"max_pool2d", "pad 2"});
  pool.forward(random({1, 2, 4, 4}, 1));
  expect_error<ShapeError>(
      [&] {
        pool.backward(random({1, 2, 3, 3}, 1));
      },
      {"max_pool2d backward", "(1,2,3,3)", "(1,2,4,4)"});
}

// ---- BatchNorm ----------------------------------------------------------------------------

TEST(BatchNorm, TrainingNormalisesAndUpdatesRunningStats) {
  // A 3x2 batch: feature 0 is 1, 2, 3 (mean 2, var 2/3), feature 1 is 4, 4, 10 (mean 6, var 8).
  BatchNorm bn(2, 0.9, 1e-5, DType::f64);
  EXPECT_EQ(bn.named_parameters()[0].first, "gamma");
  EXPECT_EQ(bn.named_buffers()[1].first, "running_var");
  Tensor x = Tensor::from({3, 2}, {1, 4, 2, 4, 3, 10});
  Tensor y = bn.forward(x);
  const double s0 = std::sqrt(2.0 / 3 + 1e-5), s1 = std::sqrt(8 + 1e-5);
  EXPECT_NEAR(y.at({0, 0}), -1 / s0, 1e-12);
  EXPECT_NEAR(y.at({2, 1}), 4 / s1, 1e-12);
  EXPECT_NEAR(bn.running_mean().get(0), 0.1 * 2, 1e-12);
  EXPECT_NEAR(bn.running_mean().get(1), 0.1 * 6, 1e-12);
  EXPECT_NEAR(bn.running_var().get(0), 0.9 + 0.1 * 2.0 / 3, 1e-12);
  EXPECT_NEAR(bn.running_var().get(1), 0.9 + 0.1 * 8, 1e-12);
  bn.forward(x);  // momentum again
  EXPECT_NEAR(bn.running_mean().get(1), 0.9 * 0.6 + 0.1 * 6, 1e-12);

  // evaluation uses the running statistics and leaves them alone
  bn.eval();
  const double rm = bn.running_mean().get(1), rv = bn.running_var().get(1);
  Tensor e = bn.forward(Tensor::from({1, 2}, {0, 5}));
  EXPECT_NEAR(e.get(1), (5 - rm) / std::sqrt(rv + 1e-5), 1e-12);
  EXPECT_EQ(bn.running_mean().get(1), rm);
}

TEST(BatchNorm, PerChannelOfImages) {
  BatchNorm bn(3, 0.9, 1e-5, DType::f64);
  Tensor x = random({4, 3, 2, 5}, 2, -3, 5);
  Tensor y = bn.forward(x);
  for (std::int64_t c = 0; c < 3; ++c) {
    double total = 0, squares = 0;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t p = 0; p < 10; ++p) {
        const double v = y.get((n * 3 + c) * 10 + p);
        total += v, squares += v * v;
      }
    EXPECT_NEAR(total / 40, 0.0, 1e-12);
    EXPECT_NEAR(squares / 40, 1.0, 1e-4);  // eps makes it slightly less than 1
  }
}

TEST(BatchNorm, GradCheckFeaturesAndChannels) {
  for (Shape shape : {Shape{5, 3}, Shape{3, 3, 2, 4}}) {
    BatchNorm bn(3, 0.9, 1e-5, DType::f64);
    bn.gamma().value() = random({3}, 5, 0.5, 2);
    bn.beta().value() = random({3}, 6);
    Var x = Var::parameter(random(shape, 7), "x");
    expect_grad_ok(gradient_check([&] { return weighted_sum(bn(x)); }, {x, bn.gamma(), bn.beta()}));
  }
}

TEST(BatchNorm, BuffersSurviveSaveLoadEval) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("nabla_cnn_layers_test_" + std::to_string(::getpid()) + ".safetensors"))
          .string();
  BatchNorm trained(3);
  for (std::uint64_t step = 0; step < 4; ++step) {
    Rng rng(10 + step);
    trained.forward(Tensor::uniform({6, 3, 2, 2}, rng, 1, 4));
  }
  trained.eval();
  Rng rng(20);
  Tensor x = Tensor::uniform({2, 3, 2, 2}, rng, 0, 3);
  Tensor expected = trained.forward(x);
  save_safetensors(path, state_dict(trained), {});

  BatchNorm loaded(3);
  loaded.eval();
  EXPECT_GT(max_abs_diff(loaded.forward(x), expected), 1e-2);
  load_state_dict(loaded, load_safetensors(path).tensors);
  std::filesystem::remove(path);
  EXPECT_EQ(max_abs_diff(loaded.running_mean(), trained.running_mean()), 0.0);
  EXPECT_EQ(max_abs_diff(loaded.running_var(), trained.running_var()), 0.0);
  EXPECT_EQ(max_abs_diff(loaded.forward(x), expected), 0.0);
}

TEST(BatchNorm, ErrorsNameTheLayerAndShapes) {
  BatchNorm bn(4);
  expect_error<ShapeError>(
      [&] {
        bn.forward(Tensor({2, 3}));
      },
      {"BatchNorm", "(2,3)", "(N, 4)", "(N, 4, H, W)"});
  expect_error<ShapeError>([&] { bn.forward(Tensor({2, 4, 3})); }, {"BatchNorm", "(2,4,3)"});
  expect_error<ValueError>([&] { bn.backward(Tensor({2, 4})); }, {"BatchNorm", "training mode"});
}

// ---- Dropout ------------------------------------------------------------------------------

TEST(Dropout, DropsAboutPAndScalesTheRest) {
  Dropout drop(0.3, 5);
  Tensor x = random({100, 100}, 1, 1, 2);
  Tensor y = drop.forward(x);
  std::int64_t dropped = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    if (y.get(i) == 0) {
      ++dropped;
    } else {
      EXPECT_NEAR(y.get(i), x.get(i) / 0.7, 1e-12);
    }
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 10000, 0.3, 0.02);
  // backward: the same mask and scale
  Tensor dx = drop.backward(Tensor::ones(x.shape(), DType::f64));
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_NEAR(dx.get(i), y.get(i) == 0 ? 0.0 : 1 / 0.7, 1e-12);
  }
  drop.eval();
  EXPECT_EQ(max_abs_diff(drop.forward(x), x), 0.0);
}

TEST(Dropout, GradCheck) {
  Dropout drop(0.5, 3);
  Var x = Var::parameter(random({4, 6}, 2), "x");
  // each evaluation draws a new mask, so check one fixed node: y = drop(x), then dy/dx
  Var y = drop(x);
  Tensor weights = random(y.shape(), 99, -1, 1);
  sum(y * Var::constant(weights)).backward();
  for (std::int64_t i = 0; i < x.value().numel(); ++i) {
    const double scale = y.value().get(i) / x.value().get(i);  // 0 or 2
    EXPECT_TRUE(scale == 0 || std::abs(scale - 2) < 1e-12);
    EXPECT_NEAR(x.grad().get(i), weights.get(i) * scale, 1e-12);
  }
}

TEST(Dropout, SeededStreamsCloneAndRestore) {
  Tensor x = Tensor::ones({8, 50}, DType::f64);
  Dropout a(0.5, 7), b(0.5, 7), c(0.5, 8);
  Tensor ma = a.forward(x);
  EXPECT_EQ(max_abs_diff(ma, b.forward(x)), 0.0);  // same seed, same mask
  EXPECT_GT(max_abs_diff(ma, c.forward(x)), 0.0);
  EXPECT_GT(max_abs_diff(ma, a.forward(x)), 0.0);  // the stream moves on

  // clone() copies the stream: both continue alike
  auto copy = clone_of(a);
  EXPECT_EQ(max_abs_diff(a.forward(x), copy->forward(x)), 0.0);

  // a saved state reproduces the same masks (what --resume does)
  ASSERT_EQ(a.named_rngs().size(), 1u);
  EXPECT_EQ(a.named_rngs()[0].first, "rng");
  const std::string state = a.named_rngs()[0].second->state();
  Tensor next = a.forward(x);
  Tensor after = a.forward(x);
  Dropout resumed(0.5, 1234);
  resumed.named_rngs()[0].second->restore(state);
  EXPECT_EQ(max_abs_diff(resumed.forward(x), next), 0.0);
  EXPECT_EQ(max_abs_diff(resumed.forward(x), after), 0.0);

  expect_error<ValueError>([] { Dropout(1.0, 1); }, {"Dropout", "[0, 1)"});
}

TEST(Dropout, StreamsAreNamedInASequential) {
  Rng rng(1);
  Sequential net;
  net.emplace<Affine>(4, 3, 0.1, rng, DType::f64);
  net.emplace<Dropout>(0.5, 11);
  net.emplace<Affine>(3, 2, 0.1, rng, DType::f64);
  net.emplace<Dropout>(0.5, 12);
  auto rngs = net.named_rngs();
  ASSERT_EQ(rngs.size(), 2u);
  EXPECT_EQ(rngs[0].first, "layer2.rng");
  EXPECT_EQ(rngs[1].first, "layer4.rng");
  EXPECT_EQ(net.named_parameters()[2].first, "W2");  // Dropout does not shift the numbers
  EXPECT_NE(rngs[0].second->state(), rngs[1].second->state());
}

// ---- Flatten and a whole network ------------------------------------------------------------

TEST(Flatten, ReshapesBothWays) {
  Flatten flat;
  Tensor x = random({2, 3, 4, 5}, 1);
  Tensor y = flat.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 60}));
  EXPECT_EQ(y.get(59), x.get(59));
  EXPECT_EQ(flat.backward(y).shape(), x.shape());
  Var v = Var::parameter(x, "x");
  expect_grad_ok(gradient_check([&] { return weighted_sum(flat(v)); }, {v}));
  expect_error<ShapeError>(
      [&] {
        flat.backward(random({2, 59}, 1));
      },
      {"Flatten", "(2,59)", "(2,3,4,5)"});
}

TEST(CnnLayers, SmallConvNetGradientMatchesNumerical) {
  // conv -> relu -> max-pool -> flatten -> affine, softmax loss, in float64 (no BatchNorm:
  // numerical_gradient evaluates in evaluation mode)
  Rng rng(3);
  Sequential net;
  net.emplace<Conv2D>(2, 3, 3, 1, 1, 0.5, rng, DType::f64);
  net.emplace<Relu>();
  net.emplace<MaxPool2D>(2);
  net.emplace<Flatten>();
  net.emplace<Affine>(3 * 3 * 3, 4, 0.5, rng, DType::f64);
  net.set_loss(std::make_unique<SoftmaxWithLoss>());
  Tensor x = distinct({3, 2, 6, 6}, 4);
  const Targets t(std::vector<std::int64_t>{0, 3, 1});
  net.zero_grad();
  net.gradient(x, t);
  std::vector<Tensor> analytic;
  std::vector<std::string> names;
  for (const auto& [name, p] : net.named_parameters()) {
    names.push_back(name);
    analytic.push_back(p.grad());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
  const GradCheckReport r = compare_gradients(names, net.numerical_gradient(x, t), analytic);
  for (const ParamCheck& p : r.params) EXPECT_LE(p.max_rel_error, 1e-5) << p.name;
}

}  // namespace
}  // namespace nabla
