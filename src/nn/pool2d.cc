// MaxPool2D and AvgPool2D: the pooling ops' forward and backward as layers.
#include <string>

#include "nabla/nn/cnn_layers.h"

namespace nabla {

namespace {

Window2d pool_window(std::int64_t size, std::int64_t stride, std::int64_t pad, const char* layer) {
  if (size < 1 || stride < 0 || pad < 0) {
    throw ValueError(std::string(layer) + ": size " + std::to_string(size) + ", stride " +
                     std::to_string(stride) + ", pad " + std::to_string(pad) +
                     ": the size must be at least 1, stride and pad at least 0");
  }
  return {size, size, stride == 0 ? size : stride, pad};
}

void check_image(const Tensor& x, const char* layer) {
  if (x.rank() != 4) {
    throw ShapeError(std::string(layer) + ": input " + shape_str(x.shape()) +
                     ", expected (N, C, H, W)");
  }
}

}  // namespace

MaxPool2D::MaxPool2D(std::int64_t size, std::int64_t stride, std::int64_t pad)
    : win_(pool_window(size, stride, pad, "MaxPool2D")) {}

Tensor MaxPool2D::forward(const Tensor& x) {
  check_image(x, "MaxPool2D");
  if (!is_training()) {
    cache_ = PoolCache{};
    return max_pool2d_forward(x, win_, nullptr);
  }
  return max_pool2d_forward(x, win_, &cache_);
}

Tensor MaxPool2D::backward(const Tensor& dout) {
  require_forward(!cache_.x_shape.empty());
  return max_pool2d_backward(dout, cache_);
}

AvgPool2D::AvgPool2D(std::int64_t size, std::int64_t stride, std::int64_t pad)
    : win_(pool_window(size, stride, pad, "AvgPool2D")) {}

Tensor AvgPool2D::forward(const Tensor& x) {
  check_image(x, "AvgPool2D");
  x_shape_ = is_training() ? x.shape() : Shape{};
  return avg_pool2d_forward(x, win_);
}

Tensor AvgPool2D::backward(const Tensor& dout) {
  require_forward(!x_shape_.empty());
  return avg_pool2d_backward(dout, x_shape_, win_);
}

}  // namespace nabla
