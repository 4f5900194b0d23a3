// Softmax as a layer: y = softmax(x) row by row (stable), dx = y * (dout - sum(dout * y)).
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"
#include "nn/layer_node.h"

namespace nabla {

Tensor Softmax::forward(const Tensor& x) {
  Tensor y = softmax(x);  // subtracts the row max
  if (is_training()) {
    y_ = y;
  } else {
    y_ = Tensor();
  }
  return y;
}

Tensor Softmax::backward(const Tensor& dout) {
  if (!y_.defined()) throw ValueError("Softmax: backward needs a forward in training mode first");
  if (dout.shape() != y_.shape()) {
    throw ShapeError("Softmax backward: dout " + shape_str(dout.shape()) +
                     ", expected the forward's output shape " + shape_str(y_.shape()));
  }
  Tensor dx(y_.shape(), y_.dtype());
  visit_dtype(y_.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* py = y_.data<T>();
    const T* pd = dout.data<T>();
    T* px = dx.data<T>();
    const std::int64_t cols = y_.shape().back();
    for (std::int64_t row = 0; row * cols < y_.numel(); ++row) {
      const std::int64_t at = row * cols;
      T dot = 0;  // sum over the row of dout * y
      for (std::int64_t c = 0; c < cols; ++c) dot += pd[at + c] * py[at + c];
      for (std::int64_t c = 0; c < cols; ++c) px[at + c] = py[at + c] * (pd[at + c] - dot);
    }
  });
  return dx;
}

// The graph op softmax (ops.h) is this layer.
Var softmax(const Var& a) { return layer_node<Softmax>("softmax", a); }

}  // namespace nabla
