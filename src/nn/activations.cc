// The activation layers Relu, Sigmoid, Tanh and Softmax: the ops of ops/activations.h,
// with the cache kept between steps.
#include "nabla/ops/activations.h"

#include <string>

#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

namespace {

// The output y of a training forward is the cache; none in evaluation.
Tensor keep_output(Tensor y, bool training, Tensor& cache) {
  if (training) {
    cache = y;  // reuses the cache's storage when the size is unchanged
  } else {
    cache = Tensor();
  }
  return y;
}

}  // namespace

Tensor Relu::forward(const Tensor& x) {
  check_floating(x, "Relu");
  if (!is_training()) {
    cache_ = ReluCache{};
    return relu_forward(x, nullptr);
  }
  return relu_forward(x, &cache_);
}

Tensor Relu::backward(const Tensor& dout) {
  // the mask covers the shape of the latest training forward (a scalar included)
  require_forward(cache_.mask.size() == static_cast<std::size_t>(shape_numel(cache_.shape)), dout,
                  cache_.shape);
  return relu_backward(dout, cache_);
}

Tensor Sigmoid::forward(const Tensor& x) {
  check_floating(x, "Sigmoid");
  return keep_output(sigmoid(x), is_training(), y_);
}

Tensor Sigmoid::backward(const Tensor& dout) {
  require_forward(y_.defined(), dout, y_.shape());
  return sigmoid_backward(dout, y_);
}

Tensor Tanh::forward(const Tensor& x) {
  check_floating(x, "Tanh");
  return keep_output(tanh(x), is_training(), y_);
}

Tensor Tanh::backward(const Tensor& dout) {
  require_forward(y_.defined(), dout, y_.shape());
  return tanh_backward(dout, y_);
}

Tensor Softmax::forward(const Tensor& x) {
  return keep_output(softmax(x), is_training(), y_);  // subtracts the row max
}

Tensor Softmax::backward(const Tensor& dout) {
  require_forward(y_.defined(), dout, y_.shape());
  return softmax_backward(dout, y_);
}

}  // namespace nabla
