// Dropout: the dropout op with a random stream of the layer's own, identity in evaluation.
#include "nabla/ops/dropout.h"

#include <string>

#include "nabla/nn/cnn_layers.h"

namespace nabla {

Dropout::Dropout(double p, std::uint64_t seed) : p_(p) {
  if (!(p >= 0 && p < 1)) {
    throw ValueError("Dropout: the drop probability must be in [0, 1), got " + std::to_string(p));
  }
  register_rng("rng", seed);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training()) {
    x_ = y_ = Var();
    return x;
  }
  x_ = Var(x, true);
  y_ = dropout(x_, p_, rng_at(0));
  return y_.value();
}

Tensor Dropout::backward(const Tensor& dout) {
  if (!y_.defined()) {
    throw ValueError("Dropout: backward needs a forward in training mode first");
  }
  if (dout.shape() != y_.shape()) {
    throw ShapeError("Dropout backward: dout " + shape_str(dout.shape()) + ", expected " +
                     shape_str(y_.shape()));
  }
  y_.backward(dout);  // the op's backward: dout through the same mask and scale
  if (!input_grad_) return Tensor();
  return x_.grad();
}

}  // namespace nabla
