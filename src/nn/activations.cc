// The activation layers Relu, Sigmoid, Tanh and Softmax: the ops of ops/activations.h,
// with the cache kept between steps.
#include "nabla/ops/activations.h"

#include <string>

#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

namespace {

void check_cached(bool cached, const char* layer) {
  if (!cached) {
    throw ValueError(std::string(layer) + ": backward needs a forward in training mode first");
  }
}

void check_dout(const Tensor& dout, const Shape& expected, const char* layer) {
  if (dout.shape() != expected) {
    throw ShapeError(std::string(layer) + " backward: dout " + shape_str(dout.shape()) +
                     ", expected the forward's output shape " + shape_str(expected));
  }
}

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
  check_cached(cache_.mask.size() == static_cast<std::size_t>(shape_numel(cache_.shape)), "Relu");
  check_dout(dout, cache_.shape, "Relu");
  return relu_backward(dout, cache_);
}

Tensor Sigmoid::forward(const Tensor& x) {
  check_floating(x, "Sigmoid");
  return keep_output(sigmoid(x), is_training(), y_);
}

Tensor Sigmoid::backward(const Tensor& dout) {
  check_cached(y_.defined(), "Sigmoid");
  check_dout(dout, y_.shape(), "Sigmoid");
  return sigmoid_backward(dout, y_);
}

Tensor Tanh::forward(const Tensor& x) {
  check_floating(x, "Tanh");
  return keep_output(tanh(x), is_training(), y_);
}

Tensor Tanh::backward(const Tensor& dout) {
  check_cached(y_.defined(), "Tanh");
  check_dout(dout, y_.shape(), "Tanh");
  return tanh_backward(dout, y_);
}

Tensor Softmax::forward(const Tensor& x) {
  return keep_output(softmax(x), is_training(), y_);  // subtracts the row max
}

Tensor Softmax::backward(const Tensor& dout) {
  check_cached(y_.defined(), "Softmax");
  check_dout(dout, y_.shape(), "Softmax");
  return softmax_backward(dout, y_);
}

}  // namespace nabla
