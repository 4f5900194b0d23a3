// The activations: relu, sigmoid, tanh and softmax, forward and backward (activations.h),
// and their graph ops (ops.h).
#include "nabla/ops/activations.h"

#include <memory>
#include <string>
#include <utility>

#include "kernels/kernels.h"
#include "nabla/detail/workers.h"
#include "nabla/ops/ops.h"
#include "ops/tensor_loops.h"

namespace nabla {

namespace {

void check_dout(const Tensor& dout, const Shape& expected, const char* op) {
  if (dout.shape() != expected) {
    throw ShapeError(std::string(op) + ": dout " + shape_str(dout.shape()) +
                     ", expected the forward's output shape " + shape_str(expected));
  }
}

}  // namespace

// ---- relu -----------------------------------------------------------------------------

Tensor relu_forward(const Tensor& x, ReluCache* cache) {
  check_floating(x, "relu");
  if (cache == nullptr) return relu(x);
  // out = max(x, 0) and mask[i] = 1 where x[i] <= 0, in one pass
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  cache->mask.resize(static_cast<std::size_t>(x.numel()));
  cache->shape = x.shape();
  std::uint8_t* mask = cache->mask.data();
  const kernels::Table& k = kernels::active();
  run_halves(x.numel(), [&](std::int64_t begin, std::int64_t end) {
    if (x.dtype() == DType::f32) {
      k.relu_f32(x.data<float>() + begin, end - begin, out.data<float>() + begin, mask + begin);
    } else {
      k.relu_f64(x.data<double>() + begin, end - begin, out.data<double>() + begin, mask + begin);
    }
  });
  return out;
}

Tensor relu_backward(const Tensor& dout, const ReluCache& cache) {
  check_dout(dout, cache.shape, "relu_backward");
  check_floating(dout, "relu_backward");
  Tensor dx = Tensor::empty(dout.shape(), dout.dtype());
  const std::uint8_t* mask = cache.mask.data();
  const kernels::Table& k = kernels::active();
  run_halves(dx.numel(), [&](std::int64_t begin, std::int64_t end) {
    if (dx.dtype() == DType::f32) {
      k.relu_backward_f32(dout.data<float>() + begin, mask + begin, end - begin,
                          dx.data<float>() + begin);
    } else {
      k.relu_backward_f64(dout.data<double>() + begin, mask + begin, end - begin,
                          dx.data<double>() + begin);
    }
  });
  return dx;
}

// ---- sigmoid, tanh, softmax -------------------------------------------------------------

Tensor sigmoid_backward(const Tensor& dout, const Tensor& y) {
  check_dout(dout, y.shape(), "sigmoid_backward");
  return kernels::zip(dout, y, "sigmoid_backward", [](auto d, auto v) { return d * (1 - v) * v; });
}

Tensor tanh_backward(const Tensor& dout, const Tensor& y) {
  check_dout(dout, y.shape(), "tanh_backward");
  return kernels::zip(dout, y, "tanh_backward", [](auto d, auto v) { return d * (1 - v * v); });
}

Tensor softmax_backward(const Tensor& dout, const Tensor& y) {
  check_dout(dout, y.shape(), "softmax_backward");
  kernels::check_same_dtype(dout, y, "softmax_backward");
  Tensor dx(y.shape(), y.dtype());
  visit_dtype(y.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* py = y.data<T>();
    const T* pd = dout.data<T>();
    T* px = dx.data<T>();
    const std::int64_t cols = y.rank() == 0 ? 1 : y.shape().back();
    for (std::int64_t row = 0; row * cols < y.numel(); ++row) {
      const std::int64_t at = row * cols;
      T dot = 0;  // sum over the row of dout * y
      for (std::int64_t c = 0; c < cols; ++c) dot += pd[at + c] * py[at + c];
      for (std::int64_t c = 0; c < cols; ++c) px[at + c] = py[at + c] * (pd[at + c] - dot);
    }
  });
  return dx;
}

// ---- the graph ops: a node holds the cache ------------------------------------------------

Var relu(const Var& a) {
  // a cache only if backward can come (record keeps the closure only then)
  auto cache = a.requires_grad() ? std::make_shared<ReluCache>() : nullptr;
  Tensor y = relu_forward(a.value(), cache.get());
  return record("relu", std::move(y), {a}, [a, cache](const Tensor& dout) {
    accumulate_grad(a, relu_backward(dout, *cache), "relu");
  });
}

namespace {

// An op whose output y is its backward's cache.
template <class Forward, class Backward>
Var output_cached(const char* op, const Var& a, Forward forward, Backward backward) {
  Tensor y = forward(a.value());
  Tensor cache = a.requires_grad() ? y : Tensor();
  return record(op, std::move(y), {a},
                [a, op, backward, cache = std::move(cache)](const Tensor& dout) {
                  accumulate_grad(a, backward(dout, cache), op);
                });
}

}  // namespace

Var sigmoid(const Var& a) {
  return output_cached(
      "sigmoid", a, [](const Tensor& x) { return sigmoid(x); }, sigmoid_backward);
}

Var tanh(const Var& a) {
  return output_cached(
      "tanh", a, [](const Tensor& x) { return tanh(x); }, tanh_backward);
}

Var softmax(const Var& a) {
  return output_cached(
      "softmax", a, [](const Tensor& x) { return softmax(x); }, softmax_backward);
}

}  // namespace nabla
