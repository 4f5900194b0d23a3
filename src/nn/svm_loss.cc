// Multiclass SVM (hinge) loss: L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin).
#include <string>

#include "nabla/nn/layers.h"

namespace nabla {

double SvmLoss::forward(const Tensor& scores, const Targets& t) {
  const char* op = "SvmLoss";
  if (scores.rank() != 2) {
    throw ShapeError(std::string(op) + ": scores " + shape_str(scores.shape()) +
                     ", expected a batch (N, C)");
  }
  const std::int64_t n = scores.size(0), c = scores.size(1);
  labels_ = t.indices(n, c, op);
  scores_ = scores;
  sample_losses_.assign(static_cast<std::size_t>(n), 0.0);
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t y = labels_[static_cast<std::size_t>(i)];
    const double correct = scores.get(i * c + y);
    double loss = 0;
    for (std::int64_t j = 0; j < c; ++j) {
      const double margin = scores.get(i * c + j) - correct + margin_;
      if (j != y && margin > 0) loss += margin;
    }
    sample_losses_[static_cast<std::size_t>(i)] = loss;
    total += loss;
  }
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

Tensor SvmLoss::backward(double dout) {
  if (!scores_.defined()) throw ValueError("SvmLoss: backward needs a forward first");
  const std::int64_t n = scores_.size(0), c = scores_.size(1);
  Tensor dx(scores_.shape(), scores_.dtype());
  if (n == 0) return dx;
  const double g = dout / static_cast<double>(n);
  // Each class j != y_i with a positive margin adds +1 to s_j and -1 to s_{y_i}.
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t y = labels_[static_cast<std::size_t>(i)];
    const double correct = scores_.get(i * c + y);
    for (std::int64_t j = 0; j < c; ++j) {
      if (j == y || scores_.get(i * c + j) - correct + margin_ <= 0) continue;
      dx.set(i * c + j, dx.get(i * c + j) + g);
      dx.set(i * c + y, dx.get(i * c + y) - g);
    }
  }
  return dx;
}

}  // namespace nabla
