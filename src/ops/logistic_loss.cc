// The binary logistic loss: forward (stable form) and backward (sigmoid(s) - t) / N.
#include "nabla/ops/logistic_loss.h"

#include <cmath>
#include <string>

namespace nabla {

Var binary_logistic_loss(const Var& scores, const std::vector<std::int64_t>& targets) {
  const Tensor& s = scores.value();
  const std::int64_t n = s.numel();
  const bool column = s.rank() == 2 && s.size(1) == 1;
  if ((s.rank() != 1 && !column) || n == 0) {
    throw ShapeError("binary_logistic_loss: expected scores (N) or (N, 1) with N > 0, got " +
                     shape_str(s.shape()));
  }
  if (static_cast<std::int64_t>(targets.size()) != n) {
    throw ShapeError("binary_logistic_loss: " + std::to_string(targets.size()) +
                     " targets for scores " + shape_str(s.shape()));
  }
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t t = targets[static_cast<std::size_t>(i)];
    if (t != 0 && t != 1) {
      throw ValueError("binary_logistic_loss: target " + std::to_string(t) + " at position " +
                       std::to_string(i) + " is not 0 or 1");
    }
    const double x = s.get(i);
    total += std::max(x, 0.0) - static_cast<double>(t) * x + std::log1p(std::exp(-std::abs(x)));
  }
  Tensor loss = Tensor::scalar(total / static_cast<double>(n), s.dtype());
  return record(
      "binary_logistic_loss", std::move(loss), {scores}, [scores, targets, n](const Tensor& dout) {
        const Tensor& sv = scores.value();
        Tensor ds = Tensor::empty(sv.shape(), sv.dtype());
        const double scale = dout.item() / static_cast<double>(n);
        for (std::int64_t i = 0; i < n; ++i) {
          const double p = 1.0 / (1.0 + std::exp(-sv.get(i)));
          ds.set(i, (p - static_cast<double>(targets[static_cast<std::size_t>(i)])) * scale);
        }
        accumulate_grad(scores, ds, "binary_logistic_loss");
      });
}

}  // namespace nabla
