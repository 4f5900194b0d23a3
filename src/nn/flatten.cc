// Flatten: (N, ...) -> (N, product of the other axes), and back in backward.
#include <string>

#include "nabla/nn/cnn_layers.h"

namespace nabla {

Tensor Flatten::forward(const Tensor& x) {
  if (x.rank() < 1) {
    throw ShapeError("Flatten: input " + shape_str(x.shape()) + ", expected a batch (N, ...)");
  }
  x_shape_ = is_training() ? x.shape() : Shape{};
  const std::int64_t n = x.size(0);
  return x.reshape({n, n == 0 ? 0 : x.numel() / n});
}

Tensor Flatten::backward(const Tensor& dout) {
  require_forward(!x_shape_.empty());
  if (dout.rank() != 2 || dout.size(0) != x_shape_[0] || dout.numel() != shape_numel(x_shape_)) {
    throw ShapeError("Flatten backward: dout " + shape_str(dout.shape()) +
                     " does not fit an input " + shape_str(x_shape_));
  }
  return dout.reshape(x_shape_);
}

}  // namespace nabla
