// Elementwise activation layers: Relu, Sigmoid, Tanh; also the graph ops relu, sigmoid, tanh.
#include <string>

#include "kernels/kernels.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"
#include "nn/layer_node.h"
#include "ops/tensor_loops.h"

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

}  // namespace

// ---- Relu --------------------------------------------------------------------------

Tensor Relu::forward(const Tensor& x) {
  check_floating(x, "Relu");
  if (!is_training()) {
    mask_.clear();
    shape_.clear();
    return relu(x);
  }
  // out = max(x, 0) and mask[i] = 1 where x[i] <= 0 (those outputs, and their gradients,
  // are zero), in one pass
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  mask_.resize(static_cast<std::size_t>(x.numel()));
  shape_ = x.shape();
  const kernels::Table& k = kernels::active();
  run_halves(workers(), x.numel(), [&](std::int64_t begin, std::int64_t end) {
    if (x.dtype() == DType::f32) {
      k.relu_f32(x.data<float>() + begin, end - begin, out.data<float>() + begin,
                 mask_.data() + begin);
    } else {
      k.relu_f64(x.data<double>() + begin, end - begin, out.data<double>() + begin,
                 mask_.data() + begin);
    }
  });
  return out;
}

Tensor Relu::backward(const Tensor& dout) {
  // the mask covers the shape of the latest training forward (a scalar included)
  check_cached(mask_.size() == static_cast<std::size_t>(shape_numel(shape_)), "Relu");
  check_dout(dout, shape_, "Relu");
  Tensor dx = Tensor::empty(dout.shape(), dout.dtype());  // the incoming dout is left as it is
  const kernels::Table& k = kernels::active();
  run_halves(workers(), dx.numel(), [&](std::int64_t begin, std::int64_t end) {
    if (dx.dtype() == DType::f32) {
      k.relu_backward_f32(dout.data<float>() + begin, mask_.data() + begin, end - begin,
                          dx.data<float>() + begin);
    } else {
      k.relu_backward_f64(dout.data<double>() + begin, mask_.data() + begin, end - begin,
                          dx.data<double>() + begin);
    }
  });
  return dx;
}

// ---- Sigmoid -----------------------------------------------------------------------

Tensor Sigmoid::forward(const Tensor& x) {
  check_floating(x, "Sigmoid");
  Tensor y = sigmoid(x);
  if (is_training()) {
    y_ = y;  // reuses y_'s storage when the size is unchanged
  } else {
    y_ = Tensor();
  }
  return y;
}

Tensor Sigmoid::backward(const Tensor& dout) {
  check_cached(y_.defined(), "Sigmoid");
  check_dout(dout, y_.shape(), "Sigmoid");
  return kernels::zip(dout, y_, "Sigmoid", [](auto d, auto y) { return d * (1 - y) * y; });
}

// ---- Tanh --------------------------------------------------------------------------

Tensor Tanh::forward(const Tensor& x) {
  check_floating(x, "Tanh");
  Tensor y = tanh(x);
  if (is_training()) {
    y_ = y;  // reuses y_'s storage when the size is unchanged
  } else {
    y_ = Tensor();
  }
  return y;
}

Tensor Tanh::backward(const Tensor& dout) {
  check_cached(y_.defined(), "Tanh");
  check_dout(dout, y_.shape(), "Tanh");
  return kernels::zip(dout, y_, "Tanh", [](auto d, auto y) { return d * (1 - y * y); });
}

// ---- the same layers as graph ops (ops.h) ---------------------------------------------

Var relu(const Var& a) { return layer_node<Relu>("relu", a); }
Var sigmoid(const Var& a) { return layer_node<Sigmoid>("sigmoid", a); }
Var tanh(const Var& a) { return layer_node<Tanh>("tanh", a); }

}  // namespace nabla
