// The layers of worked-examples §2 and §4: forward values, backward values, and every
// backward checked against central differences in float64 (inputs away from kinks).
#include "nabla/nn/layers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 1e-6;

using testing_util::random;

// Random values with |x| >= 0.2, away from the kink of Relu at 0.
Tensor away_from_zero(Shape shape, std::uint64_t seed) {
  Tensor t = random(std::move(shape), seed);
  for (std::int64_t i = 0; i < t.numel(); ++i)
    t.set(i, t.get(i) >= 0 ? t.get(i) + 0.2 : t.get(i) - 0.2);
  return t;
}

// A fixed random weighting turns any output into a scalar with a non-trivial gradient.
Var weighted_sum(const Var& y, std::uint64_t seed = 99) {
  return sum(y * Var::constant(random(y.shape(), seed, -1, 1)));
}

void expect_grad_ok(const GradCheckReport& r) {
  ASSERT_FALSE(r.params.empty());
  for (const ParamCheck& p : r.params) EXPECT_LE(p.max_rel_error, kTol) << p.name;
}

std::vector<double> values(const Tensor& t) { return t.to_vector(); }

template <class E, class F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const std::string& part : parts) EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

// ---- worked-examples §1 with MulLayer and AddLayer -------------------------------------

TEST(MulAddLayer, AppleExample) {
  MulLayer mul_apple, mul_tax;
  double apple_price = mul_apple.forward(100, 2);
  double price = mul_tax.forward(apple_price, 1.1);
  EXPECT_NEAR(price, 220, 1e-12);
  auto [d_apple_price, d_tax] = mul_tax.backward(1);
  auto [d_apple, d_apple_num] = mul_apple.backward(d_apple_price);
  EXPECT_NEAR(d_apple_price, 1.1, 1e-15);
  EXPECT_NEAR(d_apple, 2.2, 1e-12);
  EXPECT_NEAR(d_apple_num, 110, 1e-12);
  EXPECT_NEAR(d_tax, 200, 1e-12);
}

TEST(MulAddLayer, AppleOrangeExample) {
  MulLayer mul_apple, mul_orange, mul_tax;
  AddLayer add_apple_orange;
  double apple_price = mul_apple.forward(100, 2);
  double orange_price = mul_orange.forward(150, 3);
  double all_price = add_apple_orange.forward(apple_price, orange_price);
  double price = mul_tax.forward(all_price, 1.1);
  EXPECT_NEAR(price, 715, 1e-12);

  auto [d_all_price, d_tax] = mul_tax.backward(1);
  auto [d_apple_price, d_orange_price] = add_apple_orange.backward(d_all_price);
  auto [d_orange, d_orange_num] = mul_orange.backward(d_orange_price);
  auto [d_apple, d_apple_num] = mul_apple.backward(d_apple_price);
  EXPECT_NEAR(d_apple_num, 110, 1e-12);
  EXPECT_NEAR(d_apple, 2.2, 1e-12);
  EXPECT_NEAR(d_orange, 3.3, 1e-12);
  EXPECT_NEAR(d_orange_num, 165, 1e-12);
  EXPECT_NEAR(d_tax, 650, 1e-12);
}

TEST(MulAddLayer, AppleOrangeAsGraphNodes) {
  auto leaf = [](double v, const char* name) { return Var::parameter(Tensor::scalar(v), name); };
  Var apple = leaf(100, "apple"), apple_num = leaf(2, "apple_num");
  Var orange = leaf(150, "orange"), orange_num = leaf(3, "orange_num"), tax = leaf(1.1, "tax");
  MulLayer mul_apple, mul_orange, mul_tax;
  AddLayer add_apple_orange;
  Var price =
      mul_tax(add_apple_orange(mul_apple(apple, apple_num), mul_orange(orange, orange_num)), tax);
  EXPECT_NEAR(price.item(), 715, 1e-12);
  EXPECT_EQ(price.op(), "MulLayer");
  price.backward();
  EXPECT_NEAR(apple_num.grad().item(), 110, 1e-12);
  EXPECT_NEAR(apple.grad().item(), 2.2, 1e-12);
  EXPECT_NEAR(orange.grad().item(), 3.3, 1e-12);
  EXPECT_NEAR(orange_num.grad().item(), 165, 1e-12);
  EXPECT_NEAR(tax.grad().item(), 650, 1e-12);
}

// One layer applied twice in a graph, then gone: each node backpropagates with the cache
// of its own forward (x * y, then (x * y) * z), as a Layer's node does.
TEST(MulAddLayer, NodesKeepTheirOwnCopyOfTheLayer) {
  Var x = Var::parameter(Tensor::scalar(2), "x"), y = Var::parameter(Tensor::scalar(3), "y");
  Var z = Var::parameter(Tensor::scalar(5), "z");
  Var f;
  {
    MulLayer mul;
    AddLayer add;
    f = add(mul(mul(x, y), z), x);  // x y z + x = 32
  }
  EXPECT_EQ(f.item(), 32);
  f.backward();
  EXPECT_EQ(x.grad().item(), 16);  // y z + 1
  EXPECT_EQ(y.grad().item(), 10);  // x z
  EXPECT_EQ(z.grad().item(), 6);   // x y
}

TEST(MulAddLayer, TensorsWithBroadcastGradCheck) {
  Var x = Var::parameter(random({3, 4}, 1), "x");
  Var row = Var::parameter(random({4}, 2), "row");
  MulLayer mul_layer;
  AddLayer add_layer;
  expect_grad_ok(gradient_check([&] { return weighted_sum(mul_layer(x, row)); }, {x, row}));
  expect_grad_ok(gradient_check([&] { return weighted_sum(add_layer(row, x)); }, {x, row}));
  // The tensor API directly: the broadcast operand's gradient is summed to its shape.
  Tensor dout = Tensor::ones({3, 4}, DType::f64);
  mul_layer.forward(x.value(), row.value());
  auto [dx, drow] = mul_layer.backward(dout);
  EXPECT_EQ(dx.shape(), (Shape{3, 4}));
  EXPECT_EQ(drow.shape(), (Shape{4}));
  EXPECT_NEAR(drow.get(1), x.value().at({0, 1}) + x.value().at({1, 1}) + x.value().at({2, 1}),
              1e-12);
}

// ---- Relu, Sigmoid, Tanh -------------------------------------------------------------

TEST(Relu, MaskExample) {
  Relu relu_layer;
  Tensor x = Tensor::from({2, 2}, {1.0, -0.5, -2.0, 3.0});
  Tensor out = relu_layer.forward(x);
  EXPECT_EQ(relu_layer.mask(), (std::vector<std::uint8_t>{0, 1, 1, 0}));  // [[F, T], [T, F]]
  EXPECT_EQ(values(out), (std::vector<double>{1, 0, 0, 3}));
  Tensor dout = Tensor::from({2, 2}, {5, 6, 7, 8});
  Tensor dx = relu_layer.backward(dout);
  EXPECT_EQ(values(dx), (std::vector<double>{5, 0, 0, 8}));
  EXPECT_EQ(values(dout), (std::vector<double>{5, 6, 7, 8}));  // dout left untouched
}

TEST(Relu, ThreadsGiveTheSameBits) {
  // 100,000 values (enough to be split between two threads), float32 and float64
  for (DType dtype : {DType::f32, DType::f64}) {
    Relu one, two;
    const Tensor x = random({10, 10000}, 41).to(dtype);
    const Tensor dout = random({10, 10000}, 42).to(dtype);
    EXPECT_TRUE(testing_util::same_bits(
        testing_util::with_threads(2, [&] { return two.forward(x); }), one.forward(x)));
    EXPECT_TRUE(testing_util::same_bits(
        testing_util::with_threads(2, [&] { return two.backward(dout); }), one.backward(dout)));
    EXPECT_EQ(two.mask(), one.mask());
  }
}

TEST(Relu, ZeroIsMasked) {
  Relu relu_layer;
  relu_layer.forward(Tensor::from({3}, {0.0, 1e-30, -1e-30}, DType::f32));
  EXPECT_EQ(relu_layer.mask(), (std::vector<std::uint8_t>{1, 0, 1}));
}

TEST(Relu, InferenceGivesTheSameValues) {
  // float32 and float64, training (mask kept) and inference (none) in one pass each
  for (DType dtype : {DType::f32, DType::f64}) {
    Relu train_layer, infer_layer;
    Tensor x = Tensor::from({2, 3}, {-1.5, 0.0, 2.5, 4.0, -0.25, 1e-3}, dtype);
    infer_layer.eval();
    Tensor trained = train_layer.forward(x);
    Tensor inferred = infer_layer.forward(x);
    EXPECT_EQ(values(trained), (std::vector<double>{0, 0, 2.5, 4, 0, x.get(5)}));
    EXPECT_EQ(values(inferred), values(trained));
    EXPECT_EQ(train_layer.mask(), (std::vector<std::uint8_t>{1, 1, 0, 0, 1, 0}));
    EXPECT_TRUE(infer_layer.mask().empty());
  }
}

TEST(Relu, GradCheck) {
  Var x = Var::parameter(away_from_zero({4, 5}, 3), "x");
  Relu relu_layer;
  expect_grad_ok(gradient_check([&] { return weighted_sum(relu_layer(x)); }, {x}));
}

TEST(Sigmoid, ValuesAndGradCheck) {
  Sigmoid sig;
  Tensor y = sig.forward(Tensor::from({3}, {0.0, 2.0, -1.0}));
  EXPECT_DOUBLE_EQ(y.get(0), 0.5);
  EXPECT_NEAR(y.get(1), 1 / (1 + std::exp(-2.0)), 1e-15);
  Tensor dx = sig.backward(Tensor::from({3}, {1.0, 1.0, 2.0}));
  EXPECT_DOUBLE_EQ(dx.get(0), 0.25);  // dout * (1 - y) * y
  double y2 = 1 / (1 + std::exp(1.0));
  EXPECT_NEAR(dx.get(2), 2 * (1 - y2) * y2, 1e-15);

  Var x = Var::parameter(random({3, 4}, 4, -4, 4), "x");
  expect_grad_ok(gradient_check([&] { return weighted_sum(sig(x)); }, {x}));
}

TEST(Tanh, ValuesAndGradCheck) {
  Tanh th;
  Tensor y = th.forward(Tensor::from({2}, {0.0, 0.5}));
  EXPECT_EQ(y.get(0), 0.0);
  EXPECT_NEAR(y.get(1), std::tanh(0.5), 1e-15);
  Tensor dx = th.backward(Tensor::from({2}, {3.0, 1.0}));
  EXPECT_EQ(dx.get(0), 3.0);  // dout * (1 - y^2)
  EXPECT_NEAR(dx.get(1), 1 - std::tanh(0.5) * std::tanh(0.5), 1e-15);

  Var x = Var::parameter(random({2, 3, 2}, 5), "x");
  expect_grad_ok(gradient_check([&] { return weighted_sum(th(x)); }, {x}));
}

TEST(Activations, InferenceKeepsNothing) {
  Relu relu_layer;
  Sigmoid sig;
  Tensor x = Tensor::from({2}, {1.0, -1.0});
  relu_layer.eval();
  sig.eval();
  relu_layer.forward(x);
  sig.forward(x);
  EXPECT_TRUE(relu_layer.mask().empty());
  EXPECT_THROW(relu_layer.backward(x), ValueError);
  EXPECT_THROW(sig.backward(x), ValueError);
}

TEST(Activations, BackwardShapeError) {
  Relu relu_layer;
  relu_layer.forward(Tensor({2, 3}, DType::f64));
  expect_error<ShapeError>(
      [&] {
        relu_layer.backward(Tensor({3, 2}, DType::f64));
      },
      {"Relu", "(3,2)", "(2,3)"});
}

// ---- Affine --------------------------------------------------------------------------

TEST(Affine, WorkedExample) {
  // X.W = [[0,0,0],[10,10,10]] with X = [[0,0],[5,5]] and W all ones; B = [1,2,3]
  Affine affine(Tensor::ones({2, 3}, DType::f64), Tensor::from({3}, {1, 2, 3}));
  Tensor x = Tensor::from({2, 2}, {0, 0, 5, 5});
  Tensor y = affine.forward(x);
  EXPECT_EQ(values(y), (std::vector<double>{1, 2, 3, 11, 12, 13}));

  Tensor dy = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor dx = affine.backward(dy);
  EXPECT_EQ(values(affine.b().grad()), (std::vector<double>{5, 7, 9}));  // sum over axis 0
  // dW = X^T.dY (2, 3), dX = dY.W^T (2, 2)
  EXPECT_EQ(values(affine.W().grad()), (std::vector<double>{20, 25, 30, 20, 25, 30}));
  EXPECT_EQ(values(dx), (std::vector<double>{6, 6, 15, 15}));
  EXPECT_EQ(values(dy), (std::vector<double>{1, 2, 3, 4, 5, 6}));  // dout left untouched

  // Gradients accumulate: a second backward adds the same again.
  affine.forward(x);
  affine.backward(dy);
  EXPECT_EQ(values(affine.b().grad()), (std::vector<double>{10, 14, 18}));
  EXPECT_EQ(values(affine.W().grad()), (std::vector<double>{40, 50, 60, 40, 50, 60}));
}

TEST(Affine, ParametersAreSharedHandles) {
  Rng rng(1);
  Affine affine(4, 3, 0.01, rng, DType::f64);
  std::vector<Var> params = affine.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name(), "W");
  EXPECT_EQ(params[0].shape(), (Shape{4, 3}));
  EXPECT_EQ(params[1].name(), "b");
  EXPECT_EQ(values(params[1].value()), (std::vector<double>{0, 0, 0}));
  params[1].value().fill(2);  // updating the handle updates the layer
  Tensor y = affine.forward(Tensor({1, 4}, DType::f64));
  EXPECT_EQ(values(y), (std::vector<double>{2, 2, 2}));
}

TEST(Affine, GradCheck) {
  Affine affine(random({5, 3}, 6), random({3}, 7));
  Var x = Var::parameter(random({4, 5}, 8), "x");
  expect_grad_ok(
      gradient_check([&] { return weighted_sum(affine(x)); }, {x, affine.W(), affine.b()}));
}

TEST(Affine, FourDimensionalInput) {
  // (N, C, H, W) = (2, 3, 2, 2) flattened to (2, 12)
  Affine affine(random({12, 4}, 9), random({4}, 10));
  Var x = Var::parameter(random({2, 3, 2, 2}, 11), "x");
  Var y = affine(x);
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  // Same values as the explicitly flattened input.
  affine.eval();
  Tensor expected = affine.forward(x.value().reshape({2, 12}));
  affine.train();
  EXPECT_LE(max_abs_diff(y.value(), expected), 1e-15);

  affine.forward(x.value());
  Tensor dx = affine.backward(random({2, 4}, 12));
  EXPECT_EQ(dx.shape(), (Shape{2, 3, 2, 2}));
  expect_grad_ok(
      gradient_check([&] { return weighted_sum(affine(x)); }, {x, affine.W(), affine.b()}));
}

TEST(Affine, BackwardAgreesWithNumericalGradientOfForward) {
  // The Tensor API on its own: dX, dW, db from backward vs central differences of forward.
  Affine affine(random({3, 2}, 13), random({2}, 14));
  Tensor x = random({4, 3}, 15), w = random({4, 2}, 16);
  auto f = [&] {
    affine.eval();
    double value = sum(mul(affine.forward(x), w)).item();
    affine.train();
    return value;
  };
  Tensor num_dx = numerical_gradient(f, x);
  Tensor num_dW = numerical_gradient(f, affine.W().value());
  Tensor num_db = numerical_gradient(f, affine.b().value());
  affine.forward(x);
  Tensor dx = affine.backward(w);
  GradCheckReport r = compare_gradients({"x", "W", "b"}, {num_dx, num_dW, num_db},
                                        {dx, affine.W().grad(), affine.b().grad()});
  expect_grad_ok(r);
}

TEST(Affine, SkipsInputGradient) {
  Affine affine(random({3, 2}, 17), random({2}, 18));
  affine.set_input_grad(false);
  affine.forward(random({4, 3}, 19));
  Tensor dx = affine.backward(random({4, 2}, 20));
  EXPECT_FALSE(dx.defined());
  EXPECT_EQ(affine.W().grad().shape(), (Shape{3, 2}));
  EXPECT_GT(std::abs(affine.W().grad().get(0)), 0);
}

TEST(Affine, ShapeErrorsNameOpAndShapes) {
  Affine affine(Tensor({4, 3}, DType::f64), Tensor({3}, DType::f64));
  expect_error<ShapeError>(
      [&] {
        affine.forward(Tensor({2, 5}, DType::f64));
      },
      {"Affine", "(2,5)", "(4,3)", "4 features"});
  expect_error<ShapeError>([&] { affine.forward(Tensor({4}, DType::f64)); },
                           {"Affine", "(4)", "(4,3)"});
  affine.forward(Tensor({2, 4}, DType::f64));
  expect_error<ShapeError>(
      [&] {
        affine.backward(Tensor({2, 4}, DType::f64));
      },
      {"Affine backward", "(2,4)", "(2,3)"});
  expect_error<ShapeError>(
      [&] {
        Affine bad(Tensor({4, 3}, DType::f64), Tensor({4}));
      },
      {"Affine", "(4,3)", "(4)"});
  expect_error<ValueError>(
      [&] {
        affine.forward(Tensor({2, 4}, DType::f32));
      },
      {"Affine", "float32", "float64"});
}

TEST(Affine, InferenceKeepsNothing) {
  Affine affine(random({3, 2}, 21), random({2}, 22));
  affine.eval();
  affine.forward(random({4, 3}, 23));
  EXPECT_THROW(affine.backward(random({4, 2}, 24)), ValueError);
}

TEST(Affine, ThreadsGiveTheSameBits) {
  // (64, 2048) . (2048, 160) is large enough for gemm's two bands: forward, dX, dW, db and
  // the evaluation give the bits of one thread; a copy agrees too.
  Rng rng(41);
  Affine one(2048, 160, 0.05, rng);
  Affine two(one.W().value(), one.b().value());  // the same values, parameters of its own
  const Tensor x = Tensor::randn({64, 2048}, rng, 1.0, DType::f32);
  const Tensor dout = Tensor::randn({64, 160}, rng, 1.0, DType::f32);
  const Tensor y = one.forward(x);
  EXPECT_TRUE(
      testing_util::same_bits(testing_util::with_threads(2, [&] { return two.forward(x); }), y));
  EXPECT_TRUE(testing_util::same_bits(
      testing_util::with_threads(2, [&] { return two.backward(dout); }), one.backward(dout)));
  EXPECT_TRUE(testing_util::same_bits(two.W().grad(), one.W().grad()));
  EXPECT_TRUE(testing_util::same_bits(two.b().grad(), one.b().grad()));
  Affine three = two;
  EXPECT_TRUE(testing_util::same_bits(three.forward(x), y));
  two.eval();
  EXPECT_TRUE(
      testing_util::same_bits(testing_util::with_threads(2, [&] { return two.forward(x); }), y));
}

TEST(Affine, Float32) {
  Affine affine(Tensor::ones({2, 3}, DType::f32), Tensor::from({3}, {1, 2, 3}, DType::f32));
  Tensor y = affine.forward(Tensor::from({2, 2}, {0, 0, 5, 5}, DType::f32));
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_EQ(values(y), (std::vector<double>{1, 2, 3, 11, 12, 13}));
  affine.backward(Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}, DType::f32));
  EXPECT_EQ(values(affine.b().grad()), (std::vector<double>{5, 7, 9}));
}

// ---- Layer as a graph node -----------------------------------------------------------

TEST(LayerNode, ListsParametersWithoutDoubleCounting) {
  Affine affine(random({3, 2}, 25), random({2}, 26));
  Var x = Var::constant(random({4, 3}, 27), "x");
  Var y = affine(x);
  EXPECT_EQ(y.op(), "Affine");
  std::vector<std::shared_ptr<Node>> order = topological_order(y);
  ASSERT_EQ(order.size(), 4u);  // x, W, b, then the Affine node
  EXPECT_EQ(order[0]->name, "x");
  EXPECT_EQ(order[1]->name, "W");
  EXPECT_EQ(order[2]->name, "b");
  EXPECT_EQ(order[3]->op, "Affine");

  Tensor dout = random({4, 2}, 28);
  y.backward(dout);
  // Exactly one layer backward's worth: db = column sums of dout.
  Tensor db = sum(dout, 0);
  EXPECT_LE(max_abs_diff(affine.b().grad(), db), 1e-15);
  EXPECT_FALSE(x.has_grad());
}

// ---- Softmax ---------------------------------------------------------------------------

TEST(SoftmaxLayer, ValuesAndGradCheck) {
  Softmax sm;
  Tensor y = sm.forward(Tensor::from({1, 3}, {1000, 1000, 1000}));  // stable
  EXPECT_NEAR(y.get(0), 1.0 / 3, 1e-15);
  Var x = Var::parameter(random({3, 4}, 29), "x");
  expect_grad_ok(gradient_check([&] { return weighted_sum(sm(x)); }, {x}));
}

// ---- SoftmaxWithLoss -----------------------------------------------------------------

TEST(SoftmaxWithLoss, SingleSampleExamples) {
  // Scores log(y) have softmax y (y sums to 1); a very negative score gives y = 0.
  SoftmaxWithLoss layer;
  std::vector<std::int64_t> label{1};  // t = (0, 1, 0)
  double loss =
      layer.forward(Tensor::from({1, 3}, {std::log(0.3), std::log(0.2), std::log(0.5)}), label);
  EXPECT_NEAR(loss, -std::log(0.2), 1e-12);
  Tensor dx = layer.backward();
  EXPECT_NEAR(dx.get(0), 0.3, 1e-6);
  EXPECT_NEAR(dx.get(1), -0.8, 1e-6);
  EXPECT_NEAR(dx.get(2), 0.5, 1e-6);

  layer.forward(Tensor::from({1, 3}, {std::log(0.01), std::log(0.99), -1000}), label);
  dx = layer.backward();
  EXPECT_NEAR(dx.get(0), 0.01, 1e-6);
  EXPECT_NEAR(dx.get(1), -0.01, 1e-6);
  EXPECT_NEAR(dx.get(2), 0.0, 1e-6);
  EXPECT_EQ(layer.probabilities().get(2), 0.0);
}

TEST(SoftmaxWithLoss, LectureScores) {
  // worked-examples §4: dog 2.3, cat -1.2 -> p = (0.97, 0.03); true class cat: loss 3.5
  SoftmaxWithLoss layer;
  double loss = layer.forward(Tensor::from({1, 2}, {2.3, -1.2}), std::vector<std::int64_t>{1});
  EXPECT_NEAR(layer.probabilities().get(0), 0.97, 0.005);
  EXPECT_NEAR(layer.probabilities().get(1), 0.03, 0.005);
  EXPECT_NEAR(loss, 3.5, 0.05);
}

TEST(SoftmaxWithLoss, BatchBackwardIsYMinusTOverN) {
  SoftmaxWithLoss layer;
  Tensor scores = random({4, 3}, 30);
  std::vector<std::int64_t> labels{2, 0, 1, 1};
  layer.forward(scores, labels);
  Tensor dx = layer.backward(2.0);  // times dout
  Tensor y = softmax(scores);
  for (std::int64_t i = 0; i < 4; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) {
      double t = labels[static_cast<std::size_t>(i)] == j ? 1 : 0;
      EXPECT_NEAR(dx.get(i * 3 + j), 2.0 * (y.get(i * 3 + j) - t) / 4, 1e-15);
    }
  }
}

TEST(SoftmaxWithLoss, IndicesAndOneHotAgree) {
  Tensor scores = random({5, 4}, 31);
  std::vector<std::int64_t> labels{3, 0, 1, 1, 2};
  Tensor one_hot = Targets(labels).one_hot(5, 4, DType::f64, "test");
  SoftmaxWithLoss by_index, by_one_hot;
  double loss_index = by_index.forward(scores, labels);
  double loss_one_hot = by_one_hot.forward(scores, one_hot);
  EXPECT_NEAR(loss_index, loss_one_hot, 1e-15);
  EXPECT_LE(max_abs_diff(by_index.backward(), by_one_hot.backward()), 1e-15);
  // ... and match cross_entropy_error on the probabilities, up to its 1e-7 inside the log
  EXPECT_NEAR(cross_entropy_error(softmax(scores), labels), loss_index, 1e-5);
}

TEST(SoftmaxWithLoss, GradCheckIndicesAndOneHot) {
  std::vector<std::int64_t> labels{0, 2, 1};
  Var scores = Var::parameter(random({3, 4}, 32, -3, 3), "scores");
  SoftmaxWithLoss layer;
  expect_grad_ok(gradient_check([&] { return layer(scores, labels); }, {scores}));
  Tensor one_hot = Targets(labels).one_hot(3, 4, DType::f64, "test");
  expect_grad_ok(gradient_check([&] { return layer(scores, one_hot); }, {scores}));
  Var loss = layer(scores, labels);
  EXPECT_EQ(loss.op(), "SoftmaxWithLoss");
  EXPECT_EQ(loss.shape(), Shape{});
}

TEST(SoftmaxWithLoss, Float32MatchesFloat64) {
  // float32 rows of up to 16 classes take a vector path with its own exp: it must agree
  // with the float64 layer to float rounding, underflow to 0 and let NaN through.
  for (std::int64_t c : {2, 10, 16, 17}) {
    // the same float32 scores both ways: only the arithmetic differs
    Tensor scores = random({6, c}, 33, -30, 30).to(DType::f32).to(DType::f64);
    scores.set(0, -1e30);  // e^(s - max) underflows: y exactly 0
    std::vector<std::int64_t> labels{1, 0, 1, 1, 0, 1};
    SoftmaxWithLoss f32, f64;
    const double loss32 = f32.forward(scores.to(DType::f32), labels);
    const double loss64 = f64.forward(scores, labels);
    EXPECT_NEAR(loss32, loss64, 1e-5 * std::abs(loss64)) << c;
    const Tensor& y32 = f32.probabilities();
    const Tensor& y64 = f64.probabilities();
    for (std::int64_t i = 0; i < 6; ++i) {
      double m = -1e300;
      for (std::int64_t j = 0; j < c; ++j) m = std::max(m, scores.get(i * c + j));
      for (std::int64_t j = 0; j < c; ++j) {
        // float32 rounds s - max to half an ulp: a relative error of up to |s - max| * 6e-8
        const std::int64_t k = i * c + j;
        const double tol = (1e-6 + 1.2e-7 * std::abs(scores.get(k) - m)) * y64.get(k);
        EXPECT_NEAR(y32.get(k), y64.get(k), tol) << c << " " << k;
      }
    }
    EXPECT_EQ(y32.get(0), 0.0);
  }
  Tensor nan_row = Tensor::from({1, 10}, {0, 1, 2, std::nan(""), 4, 5, 6, 7, 8, 9}).to(DType::f32);
  SoftmaxWithLoss layer;
  EXPECT_TRUE(std::isnan(layer.forward(nan_row, std::vector<std::int64_t>{2})));
}

TEST(SoftmaxWithLoss, BadLabels) {
  SoftmaxWithLoss layer;
  Tensor scores({4, 10}, DType::f64);
  expect_error<ValueError>(
      [&] {
        layer.forward(scores, std::vector<std::int64_t>{0, 1, 2, 12});
      },
      {"SoftmaxWithLoss: label 12 out of range [0, 10) at row 3"});
  expect_error<ValueError>(
      [&] {
        layer.forward(scores, std::vector<std::int64_t>{0, -1, 2, 3});
      },
      {"SoftmaxWithLoss: label -1 out of range [0, 10) at row 1"});
  expect_error<ValueError>(
      [&] {
        layer.forward(scores, std::vector<std::int64_t>{0, 1});
      },
      {"SoftmaxWithLoss", "2 labels for a batch of 4"});
  expect_error<ShapeError>(
      [&] {
        layer.forward(scores, Tensor({4, 9}, DType::f64));
      },
      {"SoftmaxWithLoss", "(4,9)", "(4,10)"});
  expect_error<ShapeError>(
      [&] { layer.forward(Tensor({10}, DType::f64), std::vector<std::int64_t>{1}); },
      {"SoftmaxWithLoss", "(10)", "(N, C)"});
  expect_error<ValueError>([] { SoftmaxWithLoss().backward(); }, {"SoftmaxWithLoss", "forward"});
}

TEST(CrossEntropyError, TextbookValues) {
  // Probabilities with the correct class 2 at 0.6, then the wrong class 7 at 0.6.
  std::vector<double> good{0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0};
  std::vector<double> bad{0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0};
  std::vector<std::int64_t> label{2};
  EXPECT_NEAR(cross_entropy_error(Tensor::from({1, 10}, good), label), 0.510825457, 1e-9);
  EXPECT_NEAR(cross_entropy_error(Tensor::from({1, 10}, bad), label), 2.302584093, 1e-9);
  // y = 0 for the label: -log(1e-7), not infinity
  EXPECT_NEAR(cross_entropy_error(Tensor::from({1, 10}, bad), std::vector<std::int64_t>{3}),
              -std::log(1e-7), 1e-9);
}

// ---- SvmLoss -------------------------------------------------------------------------

TEST(SvmLoss, ThreeImagesExample) {
  // The table has classes as rows and images as columns; the batch (N = 3 images,
  // C = 3 classes: cat, car, frog) is its transpose.
  Tensor scores = Tensor::from({3, 3}, {3.2, 5.1, -1.7,    // image of a cat
                                        1.3, 4.9, 2.0,     // image of a car
                                        2.2, 2.5, -3.1});  // image of a frog
  SvmLoss svm;
  double loss = svm.forward(scores, std::vector<std::int64_t>{0, 1, 2});
  ASSERT_EQ(svm.sample_losses().size(), 3u);
  EXPECT_NEAR(svm.sample_losses()[0], 2.9, 1e-12);
  EXPECT_NEAR(svm.sample_losses()[1], 0.0, 1e-12);
  EXPECT_NEAR(svm.sample_losses()[2], 12.9, 1e-12);
  EXPECT_NEAR(loss, 5.27, 0.005);
  EXPECT_NEAR(loss, (2.9 + 12.9) / 3, 1e-12);

  // cat: car's margin is positive (+1 car, -1 cat); car: none; frog: cat and car (-2 frog)
  Tensor dx = svm.backward();
  std::vector<double> expected{-1, 1, 0, 0, 0, 0, 1, 1, -2};
  for (double& e : expected) e /= 3;
  EXPECT_LE(max_abs_diff(dx, Tensor::from({3, 3}, expected)), 1e-15);
}

TEST(SvmLoss, GradCheckAwayFromKinks) {
  std::vector<std::int64_t> labels{1, 0, 3, 2, 1};
  Tensor s = random({5, 4}, 33);
  for (std::int64_t i = 0; i < 5; ++i) {
    double correct = s.get(i * 4 + labels[static_cast<std::size_t>(i)]);
    for (std::int64_t j = 0; j < 4; ++j) {
      double margin = s.get(i * 4 + j) - correct + 1;
      if (j != labels[static_cast<std::size_t>(i)] && std::abs(margin) < 0.1) {
        s.set(i * 4 + j, s.get(i * 4 + j) + 0.3);
      }
    }
  }
  Var scores = Var::parameter(s, "scores");
  SvmLoss svm;
  expect_grad_ok(gradient_check([&] { return svm(scores, labels); }, {scores}));
  SvmLoss svm_margin(2.5);
  svm_margin.forward(s, labels);
  EXPECT_GE(svm_margin.sample_losses()[1], svm.sample_losses()[1]);
}

// ---- Targets -------------------------------------------------------------------------

TEST(Targets, IndicesAndOneHot) {
  Targets by_index(std::vector<std::int64_t>{2, 0});
  EXPECT_FALSE(by_index.is_one_hot());
  EXPECT_EQ(by_index.size(), 2);
  Tensor one_hot = by_index.one_hot(2, 3, DType::f32, "test");
  EXPECT_EQ(one_hot.dtype(), DType::f32);
  EXPECT_EQ(values(one_hot), (std::vector<double>{0, 0, 1, 1, 0, 0}));

  Targets by_row(one_hot);
  EXPECT_TRUE(by_row.is_one_hot());
  EXPECT_EQ(by_row.size(), 2);
  EXPECT_EQ(by_row.indices(2, 3, "test"), (std::vector<std::int64_t>{2, 0}));
  EXPECT_EQ(by_row.one_hot(2, 3, DType::f64, "test").dtype(), DType::f64);
}

}  // namespace
}  // namespace nabla
