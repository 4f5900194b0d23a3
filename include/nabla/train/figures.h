// nabla/train/figures.h — the lectures' figures that training data makes, as panels of
// the one SVG chart (curves.h):
//
//   std::vector<Panel> t = weight_template_panels(W, 28, 28);  // a linear classifier's
//   write_chart(dir / "templates.svg", t, 5);                   // W, one image per class
//
//   SGD sgd(0.95);                                             // the textbook's f(x, y)
//   DescentPath p = descent_path(sgd, bowl, -7, 2, 30);         // = x^2 / 20 + y^2
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/train/curves.h"
#include "nabla/train/optim.h"

NABLA_API_BEGIN
namespace nabla {

// One panel per class of a linear classifier's weights W (features, classes): column c
// drawn as a height x width image (row 0 on top), blue below zero, red above, each panel
// on its own colour scale. Throws ValueError when W is not 2-D or height * width is not
// its features.
std::vector<Panel> weight_template_panels(const Tensor& W, std::int64_t height,
                                          std::int64_t width);

// The points an optimizer visits minimising f(p) of a point p = (x, y) (a (2,) float64
// parameter; f returns a scalar Var): the start, then one point per step.
struct DescentPath {
  std::string optimizer;
  std::vector<double> x, y;
};
DescentPath descent_path(Optimizer& optimizer, const std::function<Var(const Var&)>& f, double x0,
                         double y0, std::int64_t steps);

// The paths over a heat map of f on [x_lo, x_hi] x [y_lo, y_hi], in one panel, the
// optimizers in the legend.
Panel descent_path_panel(const std::vector<DescentPath>& paths,
                         const std::function<double(double, double)>& f, double x_lo,
                         double x_hi, double y_lo, double y_hi, const std::string& title);

}  // namespace nabla
NABLA_API_END
