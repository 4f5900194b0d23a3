// The lectures' figures from data: weight templates, descent paths, loss slices.
#include "nabla/train/figures.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nabla/ops/ops.h"
#include "nabla/train/landscape.h"

namespace nabla {
namespace {

TEST(WeightTemplates, OnePanelPerClassEachPixelItsWeight) {
  // W (4 pixels of a 2 x 2 image, 3 classes): W[i, c] = 10 i + c
  std::vector<double> w;
  for (int i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) w.push_back(10 * i + c);
  }
  const std::vector<Panel> panels = weight_template_panels(Tensor::from({4, 3}, w), 2, 2);
  ASSERT_EQ(panels.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    const Heatmap& h = panels[static_cast<std::size_t>(c)].heatmap;
    ASSERT_EQ(h.rows, 2);
    ASSERT_EQ(h.cols, 2);
    EXPECT_EQ(panels[static_cast<std::size_t>(c)].title, "class " + std::to_string(c));
    // the heat map's row 0 is the largest y, drawn at the bottom of the image axis: the
    // image's last row
    for (int r = 0; r < 2; ++r) {
      for (int col = 0; col < 2; ++col) {
        EXPECT_EQ(h.values[static_cast<std::size_t>((1 - r) * 2 + col)], 10 * (r * 2 + col) + c);
      }
    }
  }
  EXPECT_THROW(weight_template_panels(Tensor::from({4, 3}, w), 3, 2), ValueError);
}

TEST(DescentPaths, TheFirstStepOfEachOptimizer) {
  // f = x^2 / 20 + y^2 at (-7, 2): gradient (-0.7, 4)
  const Tensor c = Tensor::from({2}, {1.0 / 20, 1.0});
  auto f = [&](const Var& p) { return sum(Var::constant(c) * p * p); };
  struct Case {
    std::unique_ptr<Optimizer> opt;
    double x, y;
  };
  std::vector<Case> cases;
  cases.push_back({std::make_unique<SGD>(0.95), -7 + 0.95 * 0.7, 2 - 0.95 * 4});
  cases.push_back({std::make_unique<Momentum>(0.1), -7 + 0.07, 2 - 0.4});
  cases.push_back({std::make_unique<AdaGrad>(1.5), -7 + 1.5, 2 - 1.5});  // lr * g / |g|
  cases.push_back({std::make_unique<Adam>(0.3), -7 + 0.3, 2 - 0.3});     // lr * sign(g)
  for (Case& k : cases) {
    const DescentPath p = descent_path(*k.opt, f, -7, 2, 3);
    ASSERT_EQ(p.x.size(), 4u) << p.optimizer;
    EXPECT_EQ(p.x[0], -7);
    EXPECT_NEAR(p.x[1], k.x, 1e-6) << p.optimizer;
    EXPECT_NEAR(p.y[1], k.y, 1e-6) << p.optimizer;
  }
  // SGD's second step from (-6.335, -1.8): x -= 0.95 x / 10, y -= 0.95 * 2y
  SGD sgd(0.95);
  const DescentPath p = descent_path(sgd, f, -7, 2, 2);
  EXPECT_NEAR(p.x[2], -6.335 * (1 - 0.095), 1e-9);
  EXPECT_NEAR(p.y[2], -1.8 * (1 - 1.9), 1e-9);
  // the panel draws the path's points over f's values
  const Panel panel = descent_path_panel({p}, [](double x, double y) { return x * x / 20 + y * y; },
                                         -10, 10, -5, 5, "SGD");
  EXPECT_EQ(panel.series[0].x.size(), 3u);
  const double x0 = -10 + 0.5 * 20 / 120, y0 = 5 - 0.5 * 10 / 60;  // the top-left cell's centre
  EXPECT_NEAR(panel.heatmap.values.front(), x0 * x0 / 20 + y0 * y0, 1e-12);
}

TEST(LossSlices, AQuadraticSlicedAlongRandomDirections) {
  // loss = |w|^2 with w = (1, 2): along a direction d of |d| = |w| = sqrt(5), loss(a) =
  // |w|^2 + 2a w.d + 5a^2: its second difference at spacing h is 10 h^2 everywhere.
  Var w = Var::parameter(Tensor::from({2}, {1, 2}), "w");
  auto loss = [&] { return sum(mul(w.value(), w.value())).get(0); };
  Rng rng(3);
  const LossSlices s = loss_slices(loss, {w}, rng, 1.0, 5);
  ASSERT_EQ(s.steps.size(), 5u);
  EXPECT_EQ(s.steps.front(), -1);
  EXPECT_EQ(s.steps.back(), 1);
  EXPECT_NEAR(s.at_model, 5, 1e-12);
  EXPECT_NEAR(s.line[2], 5, 1e-12);
  for (std::size_t i = 1; i + 1 < 5; ++i) {
    EXPECT_NEAR(s.line[i - 1] - 2 * s.line[i] + s.line[i + 1], 10 * 0.25, 1e-9);
  }
  ASSERT_EQ(s.grid.size(), 25u);
  EXPECT_NEAR(s.grid[12], 5, 1e-12);  // the centre: the model
  EXPECT_NEAR(s.grid[2 * 5 + 0], s.line[0], 1e-12);  // b = 0 is the middle row
  // the model's values are back
  EXPECT_EQ(w.value().get(0), 1);
  EXPECT_EQ(w.value().get(1), 2);
  EXPECT_THROW(loss_slices(loss, {w}, rng, 1.0, 1), ValueError);
  const std::vector<Panel> panels = loss_slice_panels(s, "loss");
  ASSERT_EQ(panels.size(), 2u);
  EXPECT_EQ(panels[1].heatmap.rows, 5);
  EXPECT_NEAR(panels[1].heatmap.x0, -1.25, 1e-12);
}

}  // namespace
}  // namespace nabla
