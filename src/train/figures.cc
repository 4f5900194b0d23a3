// The lectures' figures from training data (see nabla/train/figures.h).
#include "nabla/train/figures.h"

#include <cmath>

#include "nabla/ops/ops.h"

namespace nabla {

std::vector<Panel> weight_template_panels(const Tensor& W, std::int64_t height,
                                          std::int64_t width) {
  if (W.rank() != 2 || W.shape()[0] != height * width) {
    throw ValueError("weight_template_panels: expected W of shape (" +
                     std::to_string(height * width) + ", classes), got " + shape_str(W.shape()));
  }
  const std::int64_t classes = W.shape()[1];
  std::vector<Panel> panels;
  for (std::int64_t c = 0; c < classes; ++c) {
    Panel p{"class " + std::to_string(c), "pixel column", "pixel row", {}};
    p.integer_x = false;
    p.y_down = true;
    p.equal_aspect = true;
    Heatmap& h = p.heatmap;
    h.rows = height, h.cols = width;
    h.x0 = 0, h.x1 = static_cast<double>(width);
    h.y0 = 0, h.y1 = static_cast<double>(height);
    h.label = "weight";
    h.diverging = true;
    for (std::int64_t i = 0; i < height * width; ++i) h.values.push_back(W.get(i * classes + c));
    // (y grows downwards: row 0 is drawn at y = 0, on top)
    std::vector<double> flipped;
    for (std::int64_t r = height - 1; r >= 0; --r) {
      for (std::int64_t col = 0; col < width; ++col) {
        flipped.push_back(h.values[static_cast<std::size_t>(r * width + col)]);
      }
    }
    h.values = std::move(flipped);
    panels.push_back(std::move(p));
  }
  return panels;
}

DescentPath descent_path(Optimizer& optimizer, const std::function<Var(const Var&)>& f, double x0,
                         double y0, std::int64_t steps) {
  DescentPath path{optimizer.name(), {x0}, {y0}};
  std::vector<Var> params = {Var::parameter(Tensor::from({2}, {x0, y0}), "p")};
  for (std::int64_t i = 0; i < steps; ++i) {
    params[0].zero_grad();
    f(params[0]).backward();
    optimizer.step(params);
    path.x.push_back(params[0].value().get(0));
    path.y.push_back(params[0].value().get(1));
  }
  return path;
}

Panel descent_path_panel(const std::vector<DescentPath>& paths,
                         const std::function<double(double, double)>& f, double x_lo,
                         double x_hi, double y_lo, double y_hi, const std::string& title) {
  static const char* colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  Panel p{title, "x", "y", {}};
  p.integer_x = false;
  p.equal_aspect = true;
  Heatmap& h = p.heatmap;
  h.rows = 60, h.cols = 120;
  h.x0 = x_lo, h.x1 = x_hi, h.y0 = y_lo, h.y1 = y_hi;
  h.label = "f(x, y)";
  for (std::int64_t r = 0; r < h.rows; ++r) {
    const double y = y_hi - (static_cast<double>(r) + 0.5) * (y_hi - y_lo) / static_cast<double>(h.rows);
    for (std::int64_t c = 0; c < h.cols; ++c) {
      const double x = x_lo + (static_cast<double>(c) + 0.5) * (x_hi - x_lo) / static_cast<double>(h.cols);
      h.values.push_back(f(x, y));
    }
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    Series s{paths[i].optimizer, colours[i % 6], {}, {}};
    // (a path that leaves the map is cut where it leaves)
    for (std::size_t k = 0; k < paths[i].x.size(); ++k) {
      const double x = paths[i].x[k], y = paths[i].y[k];
      if (!(x >= x_lo && x <= x_hi && y >= y_lo && y <= y_hi)) break;
      s.x.push_back(x);
      s.y.push_back(y);
    }
    p.series.push_back(std::move(s));
  }
  return p;
}

}  // namespace nabla
