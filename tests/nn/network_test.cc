// Sequential and the textbook's two-layer networks (worked-examples §3): parameters,
// predict/loss/accuracy, and backprop gradients checked against numerical gradients.
#include "nabla/nn/network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/ops.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

// Central differences of a loss of about 1 with h = 1e-4 carry ~1e-11 of rounding noise, so
// gradient entries below 1e-5 are compared against 1e-5 (compare_gradients' abs_floor).
constexpr double kFloor = 1e-5;

std::vector<std::string> names(const std::vector<Var>& params) {
  std::vector<std::string> out;
  for (const Var& p : params) out.push_back(p.name());
  return out;
}

std::vector<Tensor> grads(const std::vector<Var>& params) {
  std::vector<Tensor> out;
  for (const Var& p : params) out.push_back(p.grad());
  return out;
}

std::vector<std::int64_t> random_labels(std::int64_t n, std::int64_t classes, Rng& rng) {
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) labels.push_back(rng.below(classes));
  return labels;
}

// Smallest |x.W1 + b1|: central differences need every Relu input clear of its kink.
double closest_to_relu_kink(Sequential& net, const Tensor& x) {
  net.layer(0).eval();
  Tensor a1 = net.layer(0).forward(x);
  net.layer(0).train();
  double m = std::numeric_limits<double>::infinity();
  for (std::int64_t i = 0; i < a1.numel(); ++i) m = std::min(m, std::abs(a1.get(i)));
  return m;
}

// ---- make_two_layer_net --------------------------------------------------------------

TEST(TwoLayerNet, ParametersNamedAndShaped) {
  Rng rng(1);
  Sequential net = make_two_layer_net(784, 50, 10, 0.01, rng);
  std::vector<Var> params = net.parameters();
  EXPECT_EQ(names(params), (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
  EXPECT_EQ(params[0].shape(), (Shape{784, 50}));
  EXPECT_EQ(params[1].shape(), (Shape{50}));
  EXPECT_EQ(params[2].shape(), (Shape{50, 10}));
  EXPECT_EQ(params[3].shape(), (Shape{10}));
  EXPECT_EQ(params[0].dtype(), DType::f32);
  // W ~ 0.01 N(0, 1), b = 0
  const Tensor& W1 = params[0].value();
  double sum_sq = 0;
  for (std::int64_t i = 0; i < W1.numel(); ++i) sum_sq += W1.get(i) * W1.get(i);
  EXPECT_NEAR(std::sqrt(sum_sq / static_cast<double>(W1.numel())), 0.01, 0.0003);
  EXPECT_EQ(max(params[1].value()).item(), 0.0);
  EXPECT_EQ(max(params[3].value()).item(), 0.0);

  ASSERT_EQ(net.size(), 3u);
  EXPECT_EQ(net.layer(0).kind(), "Affine");
  EXPECT_EQ(net.layer(1).kind(), "Relu");
  EXPECT_EQ(net.layer(2).kind(), "Affine");
  EXPECT_EQ(net.loss_layer().kind(), "SoftmaxWithLoss");
}

TEST(TwoLayerNet, ParameterLookup) {
  Rng rng(2);
  Sequential net = make_two_layer_net(4, 3, 2, 0.01, rng);
  Var W2 = net.parameter("W2");
  EXPECT_EQ(W2.shape(), (Shape{3, 2}));
  W2.value().fill(0.5);  // a shared handle: the layer sees the change
  EXPECT_EQ(net.parameters()[2].value().get(0), 0.5f);
  try {
    net.parameter("W3");
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'W3'"));
    EXPECT_THAT(e.what(), HasSubstr("W1, b1, W2, b2"));
  }
}

TEST(TwoLayerNet, InitialLossIsLn10) {
  // With weights ~ 0.01 N(0, 1) every class gets probability ~ 1/10.
  Rng rng(3);
  Sequential net = make_two_layer_net(784, 50, 10, 0.01, rng);
  Tensor x = Tensor::uniform({100, 784}, rng, 0, 1);  // pixels scaled to [0, 1]
  double loss = net.loss(x, random_labels(100, 10, rng));
  EXPECT_NEAR(loss, std::log(10.0), 0.01);  // 2.302
}

TEST(TwoLayerNet, GradientMatchesNumericalSmallNet) {
  Rng rng(4);
  Sequential net = make_two_layer_net(20, 10, 5, 0.1, rng, DType::f64);
  for (std::uint64_t trial = 0; trial < 3; ++trial) {
    Tensor x = Tensor::uniform({4, 20}, rng, -1, 1, DType::f64);
    std::vector<std::int64_t> t = random_labels(4, 5, rng);
    ASSERT_GT(closest_to_relu_kink(net, x), 1e-3);
    net.zero_grad();
    net.gradient(x, t);
    GradCheckReport r = compare_gradients(names(net.parameters()), net.numerical_gradient(x, t),
                                          grads(net.parameters()), kFloor);
    ASSERT_EQ(r.params.size(), 4u);
    for (const ParamCheck& p : r.params) {
      EXPECT_LE(p.mean_abs_diff, 1e-7) << p.name;
      EXPECT_LE(p.max_rel_error, 1e-6) << p.name;
    }
  }
}

TEST(TwoLayerNet, GradientMatchesNumericalMnistShape) {
  // The textbook's check on the real shape: 784-50-10, three samples, float64.
  Rng rng(5);
  Sequential net = make_two_layer_net(784, 50, 10, 0.01, rng, DType::f64);
  Tensor x = Tensor::uniform({3, 784}, rng, 0, 1, DType::f64);
  std::vector<std::int64_t> t{7, 2, 1};
  ASSERT_GT(closest_to_relu_kink(net, x), 1e-3);
  net.gradient(x, t);
  GradCheckReport r = compare_gradients(names(net.parameters()), net.numerical_gradient(x, t),
                                        grads(net.parameters()), kFloor);
  for (const ParamCheck& p : r.params) {
    std::printf("%s: mean |diff| %.3g, max |diff| %.3g, max rel error %.3g\n", p.name.c_str(),
                p.mean_abs_diff, p.max_abs_diff, p.max_rel_error);
    EXPECT_LE(p.mean_abs_diff, 1e-7) << p.name;
    EXPECT_LE(p.max_rel_error, 1e-6) << p.name;
  }
}

TEST(TwoLayerNet, GradientsAccumulateUntilZeroed) {
  Rng rng(6);
  Sequential net = make_two_layer_net(6, 4, 3, 0.5, rng, DType::f64);
  Tensor x = Tensor::uniform({2, 6}, rng, -1, 1, DType::f64);
  std::vector<std::int64_t> t{0, 2};
  double loss = net.gradient(x, t);
  EXPECT_NEAR(loss, net.loss(x, t), 1e-15);
  std::vector<Tensor> once = grads(net.parameters());
  net.gradient(x, t);
  std::vector<Tensor> twice = grads(net.parameters());
  for (std::size_t k = 0; k < once.size(); ++k) {
    EXPECT_EQ(twice[k].shape(), net.parameters()[k].shape());
    EXPECT_LE(max_abs_diff(twice[k], scale(once[k], 2)), 1e-15);
  }
  net.zero_grad();  // zeroes in place, keeping the storage for the next step
  for (const Var& p : net.parameters()) {
    EXPECT_EQ(p.grad().shape(), p.shape());
    EXPECT_EQ(max_abs_diff(p.grad(), Tensor(p.shape(), p.dtype())), 0.0);
  }
}

TEST(TwoLayerNet, ForwardGraphGivesTheSameGradients) {
  Rng rng(7);
  Sequential net = make_two_layer_net(6, 4, 3, 0.5, rng, DType::f64);
  Tensor x = Tensor::uniform({5, 6}, rng, -1, 1, DType::f64);
  std::vector<std::int64_t> t{0, 2, 1, 1, 0};
  double loss = net.gradient(x, t);
  std::vector<Tensor> by_layers = grads(net.parameters());
  net.zero_grad();

  Var out = net.forward_graph(Var::constant(x, "x"), t);
  EXPECT_EQ(out.op(), "SoftmaxWithLoss");
  EXPECT_NEAR(out.item(), loss, 1e-15);
  out.backward();
  std::vector<Tensor> by_graph = grads(net.parameters());
  for (std::size_t k = 0; k < by_graph.size(); ++k) {
    EXPECT_LE(max_abs_diff(by_graph[k], by_layers[k]), 1e-15);
  }
  // x, W1, b1, Affine, Relu, W2, b2, Affine, SoftmaxWithLoss
  std::vector<std::string> labels;
  for (const auto& node : topological_order(out)) {
    labels.push_back(node->op.empty() ? node->name : node->op);
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"x", "W1", "b1", "Affine", "Relu", "W2", "b2",
                                              "Affine", "SoftmaxWithLoss"}));
}

TEST(TwoLayerNet, ForwardGraphInputGradient) {
  // With x a parameter the graph also gives dL/dx (the first Affine then computes dX).
  Rng rng(8);
  Sequential net = make_two_layer_net(5, 4, 3, 0.5, rng, DType::f64);
  Var x = Var::parameter(Tensor::uniform({2, 5}, rng, -1, 1, DType::f64), "x");
  std::vector<std::int64_t> t{1, 2};
  ASSERT_GT(closest_to_relu_kink(net, x.value()), 1e-3);
  GradCheckReport r = gradient_check([&] { return net.forward_graph(x, t); }, {x});
  EXPECT_LE(r.max_rel_error(), 1e-6);
}

// ---- Sequential in general -------------------------------------------------------------

TEST(Sequential, RenamesParametersPerParametrisedLayer) {
  Rng rng(9);
  Sequential net;
  net.emplace<Affine>(4, 3, 0.1, rng);
  net.emplace<Relu>();
  net.emplace<Affine>(3, 3, 0.1, rng);
  net.emplace<Sigmoid>();
  Affine& last = net.emplace<Affine>(3, 2, 0.1, rng);
  EXPECT_EQ(names(net.parameters()),
            (std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"}));
  EXPECT_EQ(last.W().name(), "W3");
  EXPECT_THROW(net.loss_layer(), ValueError);
}

TEST(Sequential, AccuracyHandMade) {
  // One Affine with W = I and b = 0: the scores are the inputs themselves.
  Sequential net;
  Tensor identity({3, 3}, DType::f64);
  for (std::int64_t i = 0; i < 3; ++i) identity.set(i * 3 + i, 1);
  net.emplace<Affine>(identity, Tensor({3}, DType::f64));
  Tensor x = Tensor::from({4, 3}, {0.1, 0.7, 0.2,    // argmax 1
                                   0.9, 0.05, 0.05,  // argmax 0
                                   0.2, 0.3, 0.5,    // argmax 2
                                   0.4, 0.4, 0.2});  // tie: the first, 0
  EXPECT_DOUBLE_EQ(net.accuracy(x, {1, 0, 2, 0}), 1.0);
  EXPECT_DOUBLE_EQ(net.accuracy(x, {1, 1, 2, 1}), 0.5);
  EXPECT_DOUBLE_EQ(net.accuracy(x, {0, 1, 0, 2}), 0.0);
  EXPECT_THROW(net.accuracy(x, {1, 0}), ValueError);
  EXPECT_EQ(net.predict(x).shape(), (Shape{4, 3}));
}

// ---- SigmoidTwoLayerNet -------------------------------------------------------------------

TEST(SigmoidTwoLayerNet, HandWrittenGradientEqualsGraphBackprop) {
  Rng rng(10);
  SigmoidTwoLayerNet net(8, 6, 4, 0.5, rng);
  Tensor x = Tensor::uniform({5, 8}, rng, -1, 1, DType::f64);
  std::vector<std::int64_t> t{3, 0, 1, 1, 2};
  std::vector<Tensor> hand = net.gradient(x, t);

  Var loss = net.loss_graph(x, t);
  EXPECT_NEAR(loss.item(), net.loss(x, t), 1e-12);
  std::vector<Var> params = net.parameters();
  for (Var& p : params) p.zero_grad();
  loss.backward();
  ASSERT_EQ(hand.size(), 4u);
  for (std::size_t k = 0; k < hand.size(); ++k) {
    EXPECT_EQ(hand[k].shape(), params[k].shape()) << params[k].name();
    EXPECT_LE(max_abs_diff(hand[k], params[k].grad()), 1e-10) << params[k].name();
  }
  // One-hot targets give the same gradient.
  Tensor one_hot = Targets(t).one_hot(5, 4, DType::f64, "test");
  std::vector<Tensor> hand_one_hot = net.gradient(x, one_hot);
  for (std::size_t k = 0; k < hand.size(); ++k) {
    EXPECT_LE(max_abs_diff(hand[k], hand_one_hot[k]), 1e-15);
  }
}

TEST(SigmoidTwoLayerNet, HandWrittenGradientMatchesNumerical) {
  Rng rng(11);
  SigmoidTwoLayerNet net(8, 6, 3, 0.1, rng);
  Tensor x = Tensor::uniform({4, 8}, rng, -1, 1, DType::f64);
  std::vector<std::int64_t> t{2, 0, 1, 1};
  GradCheckReport r = compare_gradients(names(net.parameters()), net.numerical_gradient(x, t),
                                        net.gradient(x, t), kFloor);
  EXPECT_EQ(names(net.parameters()), (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
  for (const ParamCheck& p : r.params) {
    EXPECT_LE(p.mean_abs_diff, 1e-7) << p.name;
    EXPECT_LE(p.max_rel_error, 1e-6) << p.name;
  }
}

TEST(SigmoidTwoLayerNet, PredictLossAccuracy) {
  Rng rng(12);
  SigmoidTwoLayerNet net(784, 50, 10, 0.01, rng);
  Tensor x = Tensor::uniform({20, 784}, rng, 0, 1, DType::f64);
  Tensor y = net.predict(x);
  EXPECT_EQ(y.shape(), (Shape{20, 10}));
  EXPECT_NEAR(sum(y).item(), 20.0, 1e-12);  // rows of probabilities
  std::vector<std::int64_t> t = random_labels(20, 10, rng);
  EXPECT_NEAR(net.loss(x, t), std::log(10.0), 0.01);
  std::vector<std::int64_t> predicted = argmax_rows(y);
  EXPECT_DOUBLE_EQ(net.accuracy(x, predicted), 1.0);
  predicted[0] = (predicted[0] + 1) % 10;
  EXPECT_DOUBLE_EQ(net.accuracy(x, predicted), 0.95);
}

}  // namespace
}  // namespace nabla
