// The lectures' worked examples added for issue 18, run as `nabla example NAME`: each
// prints the numbers of ../shared/reference/worked-examples.md, asserted here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

#include "test_util.h"

namespace {

using ::testing::HasSubstr;
using Result = nabla::testing_util::CommandResult;

Result run(const std::string& args) { return nabla::testing_util::run_nabla(args); }

TEST(LectureExamples, Listed) {
  Result r = run("example --list");
  EXPECT_EQ(r.status, 0);
  for (const char* name :
       {"mul-node", "apple-finite-change", "backward-patterns", "softmax-loss-primitive", "slope",
        "jacobian-elementwise", "affine-jacobians", "score-gradient"}) {
    EXPECT_THAT(r.out, HasSubstr(name));
  }
}

TEST(LectureExamples, MulNodeSwitchesItsInputs) {
  Result r = run("example mul-node");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("out = x * y = 50\n"));
  EXPECT_THAT(r.out, HasSubstr("dx = dout * y = 6.5\n"));
  EXPECT_THAT(r.out, HasSubstr("dy = dout * x = 13\n"));
}

TEST(LectureExamples, AppleGradientsCheckedByAFiniteChange) {
  Result r = run("example apple-finite-change");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("price = 220\n"));
  EXPECT_THAT(r.out,
              HasSubstr("apple 101 instead of 100: price = 222.2 (change 2.2, gradient 2.2)\n"));
  EXPECT_THAT(r.out, HasSubstr("tax 2.1 instead of 1.1: price = 420 (change 200, gradient 200)\n"));
}

TEST(LectureExamples, ThreeBackwardPatterns) {
  Result r = run("example backward-patterns");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("f = -20\n"));
  EXPECT_THAT(r.out, HasSubstr("d(x*y) = 2\n"));  // add distributes
  EXPECT_THAT(r.out, HasSubstr("d(max(z,w)) = 2\n"));
  EXPECT_THAT(r.out, HasSubstr("dx = -8\n"));  // mul switches: 2 * y
  EXPECT_THAT(r.out, HasSubstr("dy = 6\n"));   // 2 * x
  EXPECT_THAT(r.out, HasSubstr("dz = 2\n"));   // max routes to the larger input
  EXPECT_THAT(r.out, HasSubstr("dw = 0\n"));
}

TEST(LectureExamples, SoftmaxWithLossFromPrimitivesEqualsTheFusedLayer) {
  Result r = run("example softmax-loss-primitive");
  EXPECT_EQ(r.status, 0);
  // (y - t) / N with N = 2, from both
  const std::string grad = "dscores = [[0.15, -0.4, 0.25], [-0.15, 0.05, 0.1]]\n";
  std::string::size_type first = r.out.find(grad);
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(r.out.find(grad, first + 1), std::string::npos) << r.out;
  EXPECT_THAT(r.out, HasSubstr("loss = 0.983056\n"));  // -(log 0.2 + log 0.7) / 2
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(r.out, m, std::regex(R"(largest difference of the gradients = (\S+))")));
  EXPECT_LT(std::stod(m[1]), 1e-12);
}

TEST(LectureExamples, GradientAsSlope) {
  Result r = run("example slope");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("x = 1: f(x) = 1, f(x + 0.01) = 1.030301, change / 0.01 = 3.0301, "
                               "f'(x) = 3x^2 = 3\n"));
  EXPECT_THAT(r.out,
              HasSubstr("x = 4: f(x) = 64, f(x + 0.01) = 64.481201, change / 0.01 = 48.1201, "
                        "f'(x) = 3x^2 = 48\n"));
}

TEST(LectureExamples, ElementwiseJacobianIsDiagonal) {
  Result r = run("example jacobian-elementwise");
  EXPECT_EQ(r.status, 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(largest difference = (\S+))")));
  EXPECT_LT(std::stod(m[1]), 1e-15);
  // 1 - tanh(0.5)^2 = 0.786448 on the diagonal, zeros off it
  EXPECT_THAT(r.out, HasSubstr("[0, 0.786448, 0]"));
}

TEST(LectureExamples, AffineJacobians) {
  Result r = run("example affine-jacobians");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("d(Wx + b)/dx = [[1, 2, 3], [4, 5, 6]]\n"));
  EXPECT_THAT(r.out, HasSubstr("d(Wx + b)/db = [[1, 0], [0, 1]]\n"));
  EXPECT_THAT(r.out, HasSubstr("d(u^T h)/du = [[0.3, -0.6, 0.9]]\n"));
}

TEST(LectureExamples, ScoreGradientDeltaAndShapeConvention) {
  Result r = run("example score-gradient");
  EXPECT_EQ(r.status, 0);
  auto value_of = [&](const std::string& name) {
    std::smatch m;
    std::regex line(std::regex_replace(name, std::regex(R"([()^.*+?])"), R"(\$&)") +
                    R"( = (.*)\n)");
    EXPECT_TRUE(std::regex_search(r.out, m, line)) << name << "\n" << r.out;
    return m.size() > 1 ? m[1].str() : std::string();
  };
  // delta = u o f'(z) is ds/db; delta x^T is ds/dW; both from backward match the formulas.
  EXPECT_EQ(value_of("delta = u o f'(z)"), value_of("ds/db (backward)"));
  EXPECT_EQ(value_of("delta x^T"), value_of("ds/dW (backward, the shape of W)"));
  EXPECT_THAT(r.out, HasSubstr("jacobian ds/dW has shape (1,6); the gradient has shape (2,3)\n"));
  // only z_i depends on W_ij: x = (1, -1, 0.5) in W's row i, zeros elsewhere
  EXPECT_THAT(r.out, HasSubstr("dz/dW = [[1, -1, 0.5, 0, 0, 0], [0, 0, 0, 1, -1, 0.5]]\n"));
}

TEST(LectureExamples, WindowClassifierForParis) {
  Result r = run("example window");
  EXPECT_EQ(r.status, 0);
  std::smatch start, loss, trained;
  ASSERT_TRUE(
      std::regex_search(r.out, start, std::regex(R"(P\(location\) = sigmoid\(s\) = (\S+))")));
  ASSERT_TRUE(std::regex_search(r.out, loss, std::regex(R"(J = -log P\(location\) = (\S+))")));
  ASSERT_TRUE(std::regex_search(r.out, trained,
                                std::regex(R"(word vectors included: P\(location\) = (\S+))")));
  EXPECT_NEAR(std::stod(loss[1]), -std::log(std::stod(start[1])), 1e-3);
  EXPECT_GT(std::stod(trained[1]), 0.95);  // SGD on the window makes Paris a location
  EXPECT_THAT(r.out, HasSubstr("dJ/d(Paris vector) = [["));  // the gradient reaches the vectors
  Result dot = run("example window --dot /dev/stdout");
  for (const char* word : {"museums", "in", "Paris", "are", "amazing"}) {
    EXPECT_THAT(dot.out, HasSubstr(std::string("label=\"{") + word + " |")) << word;
  }
}

TEST(LectureExamples, NumericalGradientWalkthroughOverThreeWeights) {
  Result r = run("example numerical-gradient");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("(1.25322 - 1.25347) / 0.0001 = -2.5\n"));
  EXPECT_THAT(r.out, HasSubstr("(1.25353 - 1.25347) / 0.0001 = 0.6\n"));
  EXPECT_THAT(r.out, HasSubstr("(1.25347 - 1.25347) / 0.0001 = 0\n"));
}

TEST(CnnExamples, Im2colOfAFourByFourImage) {
  Result r = run("example im2col");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("(one field a row) = [[1, 2, 5, 6], [2, 3, 6, 7], [3, 4, 7, 8], "
                               "[5, 6, 9, 10], [6, 7, 10, 11], [7, 8, 11, 12], [9, 10, 13, 14], "
                               "[10, 11, 14, 15], [11, 12, 15, 16]]\n"));
  EXPECT_THAT(r.out, HasSubstr("y = [[-5, -5, -5], [-5, -5, -5], [-5, -5, -5]]\n"));
  EXPECT_THAT(r.out, HasSubstr("= [[54, 63], [90, 99]]\n"));  // sums of the 3x3 sub-grids
  EXPECT_THAT(r.out, HasSubstr("add up) = [[1, 1, 1, 0], [1, 0, 0, -1], [1, 0, 0, -1], "
                               "[0, -1, -1, -1]]\n"));
}

TEST(CnnExamples, MaxPoolRoutesTheGradient) {
  Result r = run("example max-pool");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("y = max_pool2d(x, 2, stride 2) = [[3, 4], [5, 6]]\n"));
  EXPECT_THAT(r.out, HasSubstr("maximum) = [[0, 0, 0, 0], [0.1, 0, 0, 0.2], [0, 0.3, 0.4, 0], "
                               "[0, 0, 0, 0]]\n"));
}

TEST(CnnExamples, BatchNormForwardAndBackward) {
  Result r = run("example batch-norm");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("mean = [3, 6]\n"));
  EXPECT_THAT(r.out, HasSubstr("var = [2.66667, 10.6667]\n"));
  EXPECT_THAT(r.out, HasSubstr("= [[-1.22474, -1.22474], [0, 0], [1.22474, 1.22474]]\n"));
  // (M dxhat - sum(dxhat) - xhat sum(dxhat xhat)) / (M sqrt(var)), M = 3
  EXPECT_THAT(r.out, HasSubstr("dx = [[0.102062, -0.102062], [-0.204124, 0.204124], "
                               "[0.102062, -0.102062]]\n"));
  EXPECT_THAT(r.out, HasSubstr("dgamma = sum(dy * xhat) = [-1.22474, 0]\n"));
  EXPECT_THAT(r.out, HasSubstr("dbeta = sum(dy) = [1, 1]\n"));
}

}  // namespace

namespace nabla {
namespace {

TEST(SequenceExamples, SentenceCrfByHand) {
  testing_util::CommandResult r = testing_util::run_nabla("example sentence-crf");
  EXPECT_EQ(r.status, 0);
  for (const char* line : {
           "s(PER O PER) = 8\n", "s(PER O O) = 6.5\n", "s(O O PER) = 5.5\n",
           "log Z by enumeration = log sum exp s(y) over the 8 paths = 8.29413\n",
           "alpha_1 (met) = [6.07889, 2.31326]\n",
           "log Z by the forward recursion = logsumexp(alpha_2 + A[end]) = 8.29413\n",
           "loss of the gold path PER O PER = log Z - s(gold) = 0.294134\n",
           "delta_1 (met) = [6, 2], best previous tag: O <- PER, PER <- PER\n",
           "delta_2 (Bob) = [6.5, 8], best previous tag: O <- O, PER <- O\n",
           "Viterbi: the best path = PER O PER (score 8)\n",
           // the graph of scalar nodes (--dot) gives the op's loss and gradient
           "the same loss as a graph of scalar nodes (--dot draws it): 0.294134; its "
           "dloss/dE[Alice][O] = 0.0785104, dloss/dA[O][PER] = -0.189962\n"}) {
    EXPECT_THAT(r.out, ::testing::HasSubstr(line));
  }
}

}  // namespace
}  // namespace nabla
