// The identity output with the sum-of-squares error: L = (1/N) sum 1/2 (y - t)^2, whose
// backward is (y - t) / N.
#include <string>

#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

double MeanSquaredLoss::forward(const Tensor& y, const Targets& t) {
  const char* op = "MeanSquaredLoss";
  check_floating(y, op);
  if (y.rank() != 2) {
    throw ShapeError(std::string(op) + ": outputs " + shape_str(y.shape()) +
                     ", expected a batch (N, K)");
  }
  const std::int64_t n = y.size(0);
  // The targets first: a bad one leaves the layer as it was.
  const Tensor target = t.values(n, y.size(1), y.dtype(), op);
  diff_ = sub(y, target);  // y - t: (N, K)
  double squares = 0;
  for (std::int64_t k = 0; k < diff_.numel(); ++k) squares += diff_.get(k) * diff_.get(k);
  return n == 0 ? 0.0 : 0.5 * squares / static_cast<double>(n);
}

Tensor MeanSquaredLoss::backward(double dout) {
  if (!diff_.defined()) throw ValueError("MeanSquaredLoss: backward needs a forward first");
  const std::int64_t n = diff_.size(0);
  // dL/dy = (y - t) * dout / N: (N, K)
  return n == 0 ? diff_ : scale(diff_, dout / static_cast<double>(n));
}

}  // namespace nabla
