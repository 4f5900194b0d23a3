// Conv2D: x (N, C, H, W) -> (N, F, OH, OW) through conv2d_forward / conv2d_backward.
#include <string>
#include <utility>

#include "nabla/nn/cnn_layers.h"

namespace nabla {

Conv2D::Conv2D(Tensor W, Tensor b, std::int64_t stride, std::int64_t pad) {
  if (W.rank() != 4 || b.shape() != Shape{W.rank() == 4 ? W.size(0) : -1}) {
    throw ShapeError("Conv2D: W " + shape_str(W.shape()) + " and b " + shape_str(b.shape()) +
                     ": expected W (F, C, KH, KW) and b (F)");
  }
  if (W.dtype() != b.dtype()) {
    throw ValueError(std::string("Conv2D: W is ") + dtype_name(W.dtype()) + " but b is " +
                     dtype_name(b.dtype()));
  }
  if (stride < 1 || pad < 0) {
    throw ValueError("Conv2D: stride " + std::to_string(stride) + ", pad " + std::to_string(pad) +
                     ": the stride must be at least 1 and the padding at least 0");
  }
  win_ = {W.size(2), W.size(3), stride, pad};
  register_parameter("W", std::move(W));
  register_parameter("b", std::move(b));
}

Conv2D::Conv2D(std::int64_t in_channels, std::int64_t filters, std::int64_t kernel,
               std::int64_t stride, std::int64_t pad, double init_std, Rng& rng, DType dtype)
    : Conv2D(Tensor::randn({filters, in_channels, kernel, kernel}, rng, init_std, dtype),
             Tensor::zeros({filters}, dtype), stride, pad) {}

Tensor Conv2D::forward(const Tensor& x) {
  const Shape& w = W().shape();
  if (x.rank() != 4 || x.size(1) != w[1]) {
    throw ShapeError("Conv2D: input " + shape_str(x.shape()) + ", expected (N, " +
                     std::to_string(w[1]) + ", H, W) for weights " + shape_str(w));
  }
  if (x.dtype() != W().dtype()) {
    throw ValueError(std::string("Conv2D: input is ") + dtype_name(x.dtype()) + " but W is " +
                     dtype_name(W().dtype()));
  }
  if (!is_training()) {
    cache_ = ConvCache{};
    return conv2d_forward(x, W().value(), b().value(), win_, nullptr);
  }
  // (reuses cache_'s storage)
  return conv2d_forward(x, W().value(), b().value(), win_, &cache_);
}

Tensor Conv2D::backward(const Tensor& dout) {
  require_forward(cache_.x.defined());
  return conv2d_backward(dout, W().value(), win_, cache_, &W().grad(), &b().grad(), input_grad_);
}

}  // namespace nabla
