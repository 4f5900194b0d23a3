// Affine: Y = X.W + b, with X flattened to (N, D).
#include <string>
#include <vector>

#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

Affine::Affine(Tensor W, Tensor b) {
  if (W.rank() != 2 || b.rank() != 1 || b.size(0) != W.size(1)) {
    throw ShapeError("Affine: W " + shape_str(W.shape()) + " and b " + shape_str(b.shape()) +
                     ": expected W (D, M) and b (M)");
  }
  if (W.dtype() != b.dtype()) {
    throw ValueError(std::string("Affine: W is ") + dtype_name(W.dtype()) + " but b is " +
                     dtype_name(b.dtype()));
  }
  register_parameter("W", std::move(W));
  register_parameter("b", std::move(b));
}

Affine::Affine(std::int64_t in, std::int64_t out, double init_std, Rng& rng, DType dtype)
    : Affine(Tensor::randn({in, out}, rng, init_std, dtype), Tensor::zeros({out}, dtype)) {}

Tensor Affine::forward(const Tensor& x) {
  check_floating(x, "Affine");
  const Tensor& w = W().value();
  const std::int64_t d = w.size(0);
  std::int64_t features = 1;  // C*H*W of an input (N, C, H, W)
  for (std::int64_t axis = 1; axis < x.rank(); ++axis) features *= x.size(axis);
  if (x.rank() < 2 || features != d) {
    throw ShapeError("Affine: input " + shape_str(x.shape()) + " x W " + shape_str(w.shape()) +
                     ": expected a batch (N, ...) of " + std::to_string(d) +
                     " features per sample");
  }
  if (x.dtype() != w.dtype()) {
    throw ValueError(std::string("Affine: input is ") + dtype_name(x.dtype()) + " but W is " +
                     dtype_name(w.dtype()));
  }
  const std::int64_t n = x.size(0);

  // X as (N, D): the cached copy when training, x itself when it is already 2-d.
  const Tensor* x2d = &x;
  Tensor flat;
  if (is_training()) {
    x_shape_ = x.shape();
    x_ = x;  // reuses x_'s storage when the size is unchanged
    x_ = std::move(x_).reshape({n, d});
    x2d = &x_;
  } else {
    x_ = Tensor();
    x_shape_.clear();
    if (x.rank() != 2) {
      flat = x.reshape({n, d});
      x2d = &flat;
    }
  }

  // Y (N, M) = b in every row, then Y += X (N, D) . W (D, M)
  Tensor y = add_bias(n);
  gemm(*x2d, false, w, false, 1.0, 1.0, y);
  return y;
}

void Affine::forget_input() {
  x_ = Tensor();
  x_shape_.clear();
}

Tensor Affine::add_bias(std::int64_t n) const {
  const std::int64_t m = b().value().size(0);
  Tensor y = Tensor::empty({n, m}, b().dtype());  // every element set below
  visit_dtype(y.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pb = b().value().data<T>();
    T* py = y.data<T>();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) py[i * m + j] = pb[j];
  });
  return y;
}

Tensor Affine::backward(const Tensor& dout) {
  require_forward(x_.defined());
  const Tensor& w = W().value();
  const Shape expected{x_.size(0), w.size(1)};
  if (dout.shape() != expected) {
    throw ShapeError("Affine backward: dout " + shape_str(dout.shape()) +
                     ", expected (N, M) = " + shape_str(expected));
  }
  affine_weight_grad(x_, dout, W().grad());  // dW (D, M) += X^T . dY
  affine_bias_grad(dout, b().grad());
  if (!input_grad_) return Tensor();
  return affine_input_grad(dout, w).reshape(x_shape_);  // in the input's shape
}

// ---- the local derivatives of Y = X.W + b, written once ---------------------------------

void affine_weight_grad(const Tensor& x, const Tensor& dY, Tensor& dW) {
  gemm(x, true, dY, false, 1.0, 1.0, dW);  // dW (D, M) += X^T (D, N) . dY (N, M)
}

void affine_bias_grad(const Tensor& dY, Tensor& db) {
  // db (M) += sum of dY (N, M) over the batch
  visit_dtype(dY.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pd = dY.data<T>();
    T* pb = db.data<T>();
    const std::int64_t n = dY.size(0), m = dY.size(1);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) pb[j] += pd[i * m + j];
  });
}

Tensor affine_input_grad(const Tensor& dY, const Tensor& W) {
  // dX (N, D) = dY (N, M) . W^T (M, D)
  Tensor dx = Tensor::empty({dY.size(0), W.size(0)}, dY.dtype());  // set by the product
  gemm(dY, false, W, true, 1.0, 0.0, dx);
  return dx;
}

}  // namespace nabla
