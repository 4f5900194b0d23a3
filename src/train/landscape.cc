// Loss slices along random directions (see nabla/train/landscape.h).
#include "nabla/train/landscape.h"

#include <cmath>
#include <utility>

#include "nabla/ops/ops.h"

namespace nabla {

namespace {

// A random direction for each parameter, scaled to the parameter's norm.
std::vector<Tensor> random_direction(const std::vector<Var>& params, Rng& rng) {
  std::vector<Tensor> d;
  for (const Var& p : params) {
    const Tensor& v = p.value();
    Tensor r = Tensor::randn(v.shape(), rng, 1.0, v.dtype());
    double pn = 0, rn = 0;
    for (std::int64_t i = 0; i < v.numel(); ++i) {
      pn += v.get(i) * v.get(i);
      rn += r.get(i) * r.get(i);
    }
    const double target = pn > 0 ? std::sqrt(pn) : 1.0;
    d.push_back(scale(r, rn > 0 ? target / std::sqrt(rn) : 0.0));
  }
  return d;
}

}  // namespace

LossSlices loss_slices(const std::function<double()>& loss, std::vector<Var> params, Rng& rng,
                       double radius, std::int64_t points) {
  if (points < 2) throw ValueError("loss_slices: points must be at least 2, got " +
                                   std::to_string(points));
  if (!(radius > 0) || !std::isfinite(radius)) {
    throw ValueError("loss_slices: radius must be a positive number, got " +
                     std::to_string(radius));
  }
  std::vector<Tensor> theta;
  for (const Var& p : params) theta.push_back(p.value());
  const std::vector<Tensor> d1 = random_direction(params, rng);
  const std::vector<Tensor> d2 = random_direction(params, rng);
  auto restore = [&] {
    for (std::size_t k = 0; k < params.size(); ++k) params[k].value() = theta[k];
  };
  // theta + a d1 + b d2, then the loss there
  auto loss_at = [&](double a, double b) {
    for (std::size_t k = 0; k < params.size(); ++k) {
      Tensor moved = add(add(theta[k], scale(d1[k], a)), scale(d2[k], b));
      params[k].value() = std::move(moved);
    }
    return loss();
  };
  LossSlices s;
  try {
    for (std::int64_t i = 0; i < points; ++i) {
      s.steps.push_back(-radius + 2 * radius * static_cast<double>(i) /
                                      static_cast<double>(points - 1));
    }
    for (double a : s.steps) s.line.push_back(loss_at(a, 0));
    for (std::int64_t r = points - 1; r >= 0; --r) {
      for (double a : s.steps) s.grid.push_back(loss_at(a, s.steps[static_cast<std::size_t>(r)]));
    }
    restore();
    s.at_model = loss();
  } catch (...) {
    restore();
    throw;
  }
  return s;
}

std::vector<Panel> loss_slice_panels(const LossSlices& s, const std::string& loss_name) {
  Panel line{"1-D slice: " + loss_name + " along a random direction",
             "step a along direction 1",
             loss_name,
             {{loss_name, "#1f77b4", s.steps, s.line},
              {"trained model (a = 0)", "#d62728", {0.0}, {s.at_model}}}};
  line.integer_x = false;
  line.series[1].line = false;
  line.y_axis = YAxis::linear;
  const double r = s.steps.empty() ? 1 : s.steps.back();
  Panel plane{"2-D slice: " + loss_name + " on a random plane",
              "step a along direction 1",
              "step b along direction 2",
              {{"trained model (0, 0)", "#d62728", {0.0}, {0.0}}}};
  plane.series[0].line = false;
  plane.integer_x = false;
  plane.equal_aspect = true;
  Heatmap& h = plane.heatmap;
  h.rows = h.cols = static_cast<std::int64_t>(s.steps.size());
  h.values = s.grid;
  const double half = s.steps.size() > 1 ? (s.steps[1] - s.steps[0]) / 2 : 0.5;
  h.x0 = h.y0 = -r - half;
  h.x1 = h.y1 = r + half;
  h.label = loss_name;
  return {line, plane};
}

}  // namespace nabla
