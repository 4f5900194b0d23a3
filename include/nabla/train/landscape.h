// nabla/train/landscape.h — the loss around a trained model along random directions
// (the lecture's 1-D and 2-D slices of a linear classifier's SVM loss):
//
//   Rng rng(1);
//   LossSlices s = loss_slices([&] { return net.loss(x, t); }, net.parameters(), rng, 1.0, 41);
//   write_chart(dir / "landscape.svg", loss_slice_panels(s, "SVM loss"));
//
// Each direction draws every parameter's elements from N(0, 1) and scales each
// parameter's part to that parameter's norm (a zero parameter: to norm 1), so a step of
// 1 moves every weight matrix by its own size, whatever its scale.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/train/curves.h"

NABLA_API_BEGIN
namespace nabla {

struct LossSlices {
  std::vector<double> steps;  // a (and b): `points` values evenly from -radius to radius
  std::vector<double> line;   // loss(theta + a d1) for each a
  // loss(theta + a d1 + b d2), row-major: row r is b = steps[points - 1 - r] (largest b
  // first, as the heat map draws it), column c is a = steps[c]
  std::vector<double> grid;
  double at_model = 0;  // loss(theta)
};

// Moves `params` (their values, in place) along two random directions and evaluates
// `loss` at each point; the values are restored before it returns (also when `loss`
// throws). Throws ValueError for points < 2 or a radius that is not positive.
LossSlices loss_slices(const std::function<double()>& loss, std::vector<Var> params, Rng& rng,
                       double radius, std::int64_t points);

// Two panels: the 1-D slice (loss against a) and the 2-D slice as a heat map, the model
// marked at the centre. `loss_name` labels the loss ("SVM loss").
std::vector<Panel> loss_slice_panels(const LossSlices& slices, const std::string& loss_name);

}  // namespace nabla
NABLA_API_END
