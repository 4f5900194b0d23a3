// Softmax and cross-entropy error fused into one layer, whose backward is (y - t) / N.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/kernels.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

namespace {

constexpr double kDelta = 1e-7;  // keeps log() away from log(0)

void check_batch(const Tensor& t, const char* op, const char* what) {
  if (t.rank() != 2) {
    throw ShapeError(std::string(op) + ": " + what + " " + shape_str(t.shape()) +
                     ", expected a batch (N, C)");
  }
}

// -(1/N) sum_i log(y[i, label_i] + delta)
double cross_entropy(const Tensor& y, const std::vector<std::int64_t>& labels) {
  const std::int64_t n = y.size(0), c = y.size(1);
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    total -= std::log(y.get(i * c + labels[static_cast<std::size_t>(i)]) + kDelta);
  }
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

// -(1/N) sum_i sum_j t[i, j] log(y[i, j] + delta)
double cross_entropy(const Tensor& y, const Tensor& one_hot) {
  const std::int64_t n = y.size(0);
  double total = 0;
  for (std::int64_t k = 0; k < y.numel(); ++k) {
    const double t = one_hot.get(k);
    if (t != 0) total -= t * std::log(y.get(k) + kDelta);
  }
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

// One row of scores s[0, c): y = softmax(s), returning log sum_k exp(s_k - m) + m (the
// kernel layer's: a vector exp for short float rows).
double softmax_row(const kernels::Table& k, const float* s, std::int64_t c, float* y) {
  return k.softmax_row_f32(s, c, y);
}

double softmax_row(const kernels::Table& k, const double* s, std::int64_t c, double* y) {
  return k.softmax_row_f64(s, c, y);
}

}  // namespace

double cross_entropy_error(const Tensor& y, const Targets& t) {
  const char* op = "cross_entropy_error";
  check_batch(y, op, "probabilities");
  const std::int64_t n = y.size(0), c = y.size(1);
  if (t.is_one_hot()) return cross_entropy(y, t.one_hot(n, c, y.dtype(), op));
  return cross_entropy(y, t.indices(n, c, op));
}

double SoftmaxWithLoss::forward(const Tensor& scores, const Targets& t) {
  const char* op = "SoftmaxWithLoss";
  check_floating(scores, op);
  check_batch(scores, op, "scores");
  const std::int64_t n = scores.size(0), c = scores.size(1);
  // Labels first: a bad label leaves the layer as it was.
  if (t.is_one_hot()) {
    t_ = t.one_hot(n, c, scores.dtype(), op);
    labels_.clear();
  } else {
    labels_ = t.indices(n, c, op);
    t_ = Tensor();
  }
  // One pass per row: y = softmax(s) (stable: the row max m is subtracted), and the loss
  // from the same sums, -log y_j = log sum_k exp(s_k - m) + m - s_j. That never takes
  // log(0), needs no delta, and its exact gradient is (y - t) / N.
  y_.resize(scores.shape(), scores.dtype());
  double total = 0;
  const kernels::Table& k = kernels::active();
  visit_dtype(scores.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* s = scores.data<T>();
    T* y = y_.data<T>();
    for (std::int64_t i = 0; i < n; ++i) {
      const T* si = s + i * c;
      const double log_sum = softmax_row(k, si, c, y + i * c);
      if (t_.defined()) {
        for (std::int64_t j = 0; j < c; ++j) {
          const double weight = t_.get(i * c + j);
          if (weight != 0) total += weight * (log_sum - static_cast<double>(si[j]));
        }
      } else {
        total += log_sum - static_cast<double>(si[labels_[static_cast<std::size_t>(i)]]);
      }
    }
  });
  loss_ = n == 0 ? 0.0 : total / static_cast<double>(n);
  return loss_;
}

Tensor SoftmaxWithLoss::backward(double dout) {
  if (!y_.defined()) throw ValueError("SoftmaxWithLoss: backward needs a forward first");
  const std::int64_t n = y_.size(0), c = y_.size(1);
  // dx = (y - t) * dout / N
  Tensor dx = y_;
  if (t_.defined()) {
    dx = sub(dx, t_);
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t at = i * c + labels_[static_cast<std::size_t>(i)];
      dx.set(at, dx.get(at) - 1.0);
    }
  }
  return n == 0 ? dx : scale(dx, dout / static_cast<double>(n));
}

}  // namespace nabla
