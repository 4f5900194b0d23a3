// The scalar computational graphs of worked-examples §1, built from graph ops.
#include "nabla/autograd/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nabla/autograd/dot.h"
#include "nabla/ops/ops.h"

namespace nabla {
namespace {

Var leaf(double v, const char* name) { return Var::parameter(Tensor::scalar(v), name); }

TEST(Graph, AppleExample) {
  Var apple = leaf(100, "apple"), apple_num = leaf(2, "apple_num"), tax = leaf(1.1, "tax");
  Var price = apple * apple_num * tax;
  EXPECT_NEAR(price.item(), 220, 1e-9);
  price.backward();
  EXPECT_NEAR(apple.grad().item(), 2.2, 1e-12);
  EXPECT_NEAR(apple_num.grad().item(), 110, 1e-12);
  EXPECT_NEAR(tax.grad().item(), 200, 1e-12);
}

TEST(Graph, AppleOrangeExample) {
  Var apple = leaf(100, "apple"), apple_num = leaf(2, "apple_num");
  Var orange = leaf(150, "orange"), orange_num = leaf(3, "orange_num"), tax = leaf(1.1, "tax");
  Var price = (apple * apple_num + orange * orange_num) * tax;
  EXPECT_NEAR(price.item(), 715, 1e-9);
  price.backward();
  EXPECT_NEAR(apple_num.grad().item(), 110, 1e-12);
  EXPECT_NEAR(apple.grad().item(), 2.2, 1e-12);
  EXPECT_NEAR(orange.grad().item(), 3.3, 1e-12);
  EXPECT_NEAR(orange_num.grad().item(), 165, 1e-12);
  EXPECT_NEAR(tax.grad().item(), 650, 1e-12);
}

TEST(Graph, AddMulExample) {
  Var x = leaf(-2, "x"), y = leaf(5, "y"), z = leaf(-4, "z");
  Var f = (x + y) * z;
  EXPECT_EQ(f.item(), -12);
  f.backward();
  EXPECT_EQ(x.grad().item(), -4);
  EXPECT_EQ(y.grad().item(), -4);
  EXPECT_EQ(z.grad().item(), 3);
}

TEST(Graph, SquareOfSum) {
  Var x = leaf(1.5, "x"), y = leaf(-4, "y");
  Var z = square(x + y);  // t = x + y, z = t^2
  z.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 2 * (1.5 - 4));
  EXPECT_DOUBLE_EQ(y.grad().item(), 2 * (1.5 - 4));
}

struct SigmoidGate {
  Var w0 = leaf(2, "w0"), x0 = leaf(-1, "x0"), w1 = leaf(-3, "w1"), x1 = leaf(-2, "x1"),
      w2 = leaf(-3, "w2");
  Var affine() { return w0 * x0 + w1 * x1 + w2; }
};

void expect_sigmoid_gate_gradients(SigmoidGate& g, const Var& f) {
  EXPECT_NEAR(f.item(), 0.73, 0.005);
  EXPECT_NEAR(g.w0.grad().item(), -0.20, 0.005);
  EXPECT_NEAR(g.x0.grad().item(), 0.39, 0.005);
  EXPECT_NEAR(g.w1.grad().item(), -0.39, 0.005);
  EXPECT_NEAR(g.x1.grad().item(), -0.59, 0.005);
  EXPECT_NEAR(g.w2.grad().item(), 0.20, 0.005);
}

TEST(Graph, SigmoidGateFromPrimitives) {
  SigmoidGate g;
  // f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))): mul, add, *-1, exp, +1, 1/x
  Var f = reciprocal(exp(g.affine() * -1.0) + 1.0);
  f.backward();
  expect_sigmoid_gate_gradients(g, f);
}

TEST(Graph, SigmoidGateFused) {
  SigmoidGate g;
  Var f = sigmoid(g.affine());
  f.backward();
  expect_sigmoid_gate_gradients(g, f);
}

TEST(Graph, PrimitiveAndFusedSigmoidAgreeExactly) {
  SigmoidGate a, b;
  Var fa = reciprocal(exp(a.affine() * -1.0) + 1.0);
  Var fb = sigmoid(b.affine());
  fa.backward();
  fb.backward();
  EXPECT_NEAR(a.w0.grad().item(), b.w0.grad().item(), 1e-14);
  EXPECT_NEAR(a.x1.grad().item(), b.x1.grad().item(), 1e-14);
}

TEST(Graph, GradientsAccumulateUntilZeroed) {
  Var x = leaf(3, "x");
  Var y = x * x;  // x used twice in one node: dy/dx = 2x
  y.backward();
  EXPECT_EQ(x.grad().item(), 6);
  Var y2 = x * leaf(1, "one");
  y2.backward();
  EXPECT_EQ(x.grad().item(), 7);  // 6 + 1
  x.zero_grad();
  EXPECT_FALSE(x.has_grad());
  EXPECT_EQ(x.grad().item(), 0);
}

TEST(Graph, SharedSubexpressionGetsBothPaths) {
  Var x = leaf(2, "x");
  Var t = x * x;      // t = 4
  Var f = t + t * x;  // f = x^2 + x^3, df/dx = 2x + 3x^2 = 16
  f.backward();
  EXPECT_EQ(x.grad().item(), 16);
}

TEST(Graph, ConstantsRecordNothing) {
  Var a = Var::constant(Tensor::scalar(2)), b = Var::constant(Tensor::scalar(3));
  Var c = a * b;
  EXPECT_EQ(c.item(), 6);
  EXPECT_FALSE(c.requires_grad());
  EXPECT_TRUE(c.node()->inputs.empty());
  EXPECT_FALSE(c.node()->backward);
}

TEST(Graph, BackwardNeedsScalarOrUpstream) {
  Var x = Var::parameter(Tensor::from({2}, {1, 2}));
  Var y = x * x;
  EXPECT_THROW(y.backward(), ShapeError);
  y.backward(Tensor::from({2}, {1, 1}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 4}));
  EXPECT_THROW(y.backward(Tensor::from({3}, {1, 1, 1})), ShapeError);
}

TEST(Graph, DeepChainDoesNotOverflow) {
  Var x = leaf(1, "x");
  Var y = x;
  for (int i = 0; i < 100000; ++i) y = y + 0.0;
  y.backward();
  EXPECT_EQ(x.grad().item(), 1);
}

TEST(Graph, DotShowsOpsValuesAndGradients) {
  Var apple = leaf(100, "apple"), apple_num = leaf(2, "apple_num"), tax = leaf(1.1, "tax");
  Var price = apple * apple_num * tax;
  price.set_name("price");
  price.backward();
  std::string dot = to_dot(price, "apple");
  EXPECT_THAT(dot, ::testing::StartsWith("digraph \"apple\" {"));
  EXPECT_THAT(dot, ::testing::HasSubstr("apple_num | value 2 | grad 110"));
  EXPECT_THAT(dot, ::testing::HasSubstr("mul price | value 220 | grad 1"));
  EXPECT_THAT(dot, ::testing::HasSubstr("tax | value 1.1 | grad 200"));
  // 5 nodes, 4 edges
  EXPECT_EQ(std::count(dot.begin(), dot.end(), '>'), 4);
}

}  // namespace
}  // namespace nabla
