// Class labels given as indices (N) or one-hot rows (N, C), checked against the batch.
#include <string>

#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

namespace {

void check_one_hot_shape(const Tensor& one_hot, std::int64_t batch, std::int64_t num_classes,
                         const char* op) {
  const Shape expected{batch, num_classes};
  if (one_hot.shape() != expected) {
    throw ShapeError(std::string(op) + ": one-hot targets " + shape_str(one_hot.shape()) +
                     ", expected (batch, classes) = " + shape_str(expected));
  }
}

}  // namespace

std::int64_t Targets::size() const {
  if (!is_one_hot()) return static_cast<std::int64_t>(indices_.size());
  if (one_hot_.rank() == 0) throw ShapeError("Targets: one-hot targets must be (N, C), got ()");
  return one_hot_.size(0);
}

std::vector<std::int64_t> Targets::indices(std::int64_t batch, std::int64_t num_classes,
                                           const char* op) const {
  if (is_one_hot()) {
    check_one_hot_shape(one_hot_, batch, num_classes, op);
    return argmax_rows(one_hot_);
  }
  if (static_cast<std::int64_t>(indices_.size()) != batch) {
    throw ValueError(std::string(op) + ": " + std::to_string(indices_.size()) +
                     " labels for a batch of " + std::to_string(batch));
  }
  for (std::size_t row = 0; row < indices_.size(); ++row) {
    const std::int64_t label = indices_[row];
    if (label < 0 || label >= num_classes) {
      throw ValueError(std::string(op) + ": label " + std::to_string(label) + " out of range [0, " +
                       std::to_string(num_classes) + ") at row " + std::to_string(row));
    }
  }
  return indices_;
}

Tensor Targets::values(std::int64_t batch, std::int64_t outputs, DType dtype,
                       const char* op) const {
  if (!is_one_hot()) {
    throw ValueError(std::string(op) + ": takes real-valued targets (batch, outputs), not " +
                     std::to_string(indices_.size()) + " class indices");
  }
  const Shape expected{batch, outputs};
  if (one_hot_.shape() != expected) {
    throw ShapeError(std::string(op) + ": targets " + shape_str(one_hot_.shape()) +
                     ", expected (batch, outputs) = " + shape_str(expected));
  }
  return one_hot_.to(dtype);
}

Tensor Targets::one_hot(std::int64_t batch, std::int64_t num_classes, DType dtype,
                        const char* op) const {
  if (is_one_hot()) {
    check_one_hot_shape(one_hot_, batch, num_classes, op);
    return one_hot_.to(dtype);
  }
  const std::vector<std::int64_t> labels = indices(batch, num_classes, op);
  Tensor t({batch, num_classes}, dtype);
  for (std::int64_t row = 0; row < batch; ++row) {
    t.set(row * num_classes + labels[static_cast<std::size_t>(row)], 1.0);
  }
  return t;
}

}  // namespace nabla
