// Dropout: the dropout op's forward and backward (ops/dropout.h) with a random stream of
// the layer's own; the identity in evaluation.
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
    cache_ = DropoutCache{};
    return x;
  }
  return dropout_forward(x, p_, rng_at(0), &cache_);
}

Tensor Dropout::backward(const Tensor& dout) {
  require_forward(cache_.mask.defined(), dout, cache_.mask.shape());
  if (!input_grad_) return Tensor();
  return dropout_backward(dout, cache_);
}

}  // namespace nabla
