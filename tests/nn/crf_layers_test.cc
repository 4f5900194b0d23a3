// TagTransitions and CrfLoss: the output's layout, the forbidden transitions, and a
// network's whole gradient (affine -> tag_transitions, crf loss) in float64.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nabla/autograd/gradcheck.h"
#include "nabla/nn/crf.h"
#include "nabla/nn/network.h"
#include "nabla/ops/crf.h"
#include "nabla/train/model_spec.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using testing_util::error_of;

// 2 tags: transitions (4, 2) = 1..8, the transition 0 -> 1 forbidden.
TagTransitions small() {
  Tensor a = Tensor::from({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, DType::f64);
  Tensor ok = Tensor::from({4, 2}, {1, 0, 1, 1, 1, 1, 1, 1}, DType::f64);
  return TagTransitions(a, ok);
}

TEST(TagTransitions, AppendsTheTransitionsBelowTheEmissions) {
  TagTransitions t = small();
  Tensor y = t.forward(Tensor::from({1, 2}, {0.5, -0.5}, DType::f64));
  ASSERT_EQ(y.shape(), (Shape{5, 2}));
  EXPECT_EQ(y.to_vector(),
            (std::vector<double>{0.5, -0.5, 1, TagTransitions::kForbidden, 3, 4, 5, 6, 7, 8}));
  const SentenceScores s = sentence_scores(y);
  EXPECT_EQ(s.emissions.to_vector(), (std::vector<double>{0.5, -0.5}));
  EXPECT_EQ(s.transitions.shape(), (Shape{4, 2}));
}

TEST(TagTransitions, BackwardSplitsAndSkipsForbiddenEntries) {
  TagTransitions t = small();
  t.forward(Tensor::from({1, 2}, {0.5, -0.5}, DType::f64));
  Tensor dout = Tensor::from({5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, DType::f64);
  EXPECT_EQ(t.backward(dout).to_vector(), (std::vector<double>{1, 2}));
  EXPECT_EQ(t.transitions().grad().to_vector(), (std::vector<double>{3, 0, 5, 6, 7, 8, 9, 10}));
}

TEST(TagTransitions, BadShapesAreNamed) {
  EXPECT_THAT(error_of<ShapeError>([] {
                TagTransitions(Tensor({3, 2}, DType::f64), Tensor({3, 2}, DType::f64));
              }),
              HasSubstr("expected transitions (K + 2, K)"));
  TagTransitions t = small();
  EXPECT_THAT(error_of<ShapeError>([&] {
                t.forward(Tensor({2, 3}, DType::f64));
              }),
              HasSubstr("TagTransitions: emissions float64(2,3), expected (N, 2) float64"));
}

TEST(CrfLoss, NeedsTheSentenceLengths) {
  CrfLoss loss;
  TagTransitions t = small();
  Tensor y = t.forward(Tensor::from({2, 2}, {0.5, -0.5, 1, 2}, DType::f64));
  EXPECT_THAT(error_of<ValueError>([&] {
                loss.forward(y, std::vector<std::int64_t>{0, 1});
              }),
              HasSubstr("lengths"));
  const double l = loss.forward(y, Targets({0, 0}, {2}));
  const SentenceScores s = sentence_scores(y);
  EXPECT_DOUBLE_EQ(l, crf_loss(s.emissions, s.transitions, {0, 0}, {2}));
}

// affine:3 -> tag_transitions with the crf loss, float64, the transition 2 -> 0 forbidden.
TEST(CrfLoss, NetworkGradientMatchesCentralDifferences) {
  ModelSpec spec;
  spec.kind = "arch";
  spec.input_shape = {4};
  spec.inputs = 4;
  spec.hidden.clear();
  spec.classes = 3;
  spec.layers = {{"affine", builtin_layers().at("affine").complete({{"out", 3}})},
                 {"tag_transitions", {}}};
  spec.loss = "crf";
  // (the crf loss and tag_transitions go together)
  EXPECT_THAT(error_of<ValueError>([] { model_from_arch("affine:3 tag_transitions", {4}, 3); }),
              HasSubstr("the crf loss goes with a last layer tag_transitions"));
  Rng rng(3);
  Sequential net = build_model(spec, rng, DType::f64);
  auto& transitions = static_cast<TagTransitions&>(net.layer(1));
  transitions.transitions().value() = Tensor::randn({5, 3}, rng, 1.0, DType::f64);
  transitions.allowed().set(2 * 3 + 0, 0.0);
  const Tensor x = Tensor::randn({7, 4}, rng, 1.0, DType::f64);
  const Targets t({0, 1, 1, 2, 2, 1, 0}, {3, 4});
  net.zero_grad();
  net.gradient(x, t);
  std::vector<Tensor> analytic;
  std::vector<std::string> names;
  for (auto& [name, p] : net.named_parameters()) {
    names.push_back(name);
    analytic.push_back(p.grad());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"W1", "b1", "transitions2"}));
  EXPECT_EQ(analytic[2].get(2 * 3 + 0), 0.0);  // forbidden: no gradient
  const std::vector<Tensor> numerical = net.numerical_gradient(x, t, 1e-5);
  EXPECT_LT(compare_gradients(names, numerical, analytic).max_rel_error(), 1e-7);
}

}  // namespace
}  // namespace nabla
