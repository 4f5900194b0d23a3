// Affine: Y = X.W + b, with X flattened to (N, D).
#include <numeric>
#include <string>
#include <vector>

#include "nabla/layers.h"
#include "nabla/ops.h"

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
  W_ = Var::parameter(std::move(W), "W");
  b_ = Var::parameter(std::move(b), "b");
}

Affine::Affine(std::int64_t in, std::int64_t out, double init_std, Rng& rng, DType dtype)
    : Affine(Tensor::randn({in, out}, rng, init_std, dtype), Tensor::zeros({out}, dtype)) {}

Tensor Affine::forward(const Tensor& x, bool train) {
  const Tensor& W = W_.value();
  const std::int64_t d = W.size(0);
  std::int64_t features = 1;  // C*H*W of an input (N, C, H, W)
  for (std::int64_t axis = 1; axis < x.rank(); ++axis) features *= x.size(axis);
  if (x.rank() < 2 || features != d) {
    throw ShapeError("Affine: input " + shape_str(x.shape()) + " x W " + shape_str(W.shape()) +
                     ": expected a batch (N, ...) of " + std::to_string(d) +
                     " features per sample");
  }
  if (x.dtype() != W.dtype()) {
    throw ValueError(std::string("Affine: input is ") + dtype_name(x.dtype()) + " but W is " +
                     dtype_name(W.dtype()));
  }
  const std::int64_t n = x.size(0);

  // X as (N, D): the cached copy when training, x itself when it is already 2-d.
  const Tensor* x2d = &x;
  Tensor flat;
  if (train) {
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

  sparse_x_.pixels = nullptr;
  // Y (N, M) = b in every row, then Y += X (N, D) . W (D, M)
  Tensor y = add_bias(n);
  gemm(*x2d, false, W, false, 1.0, 1.0, y);
  return y;
}

namespace {

bool consecutive(const std::vector<std::int64_t>& rows) {
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i] != rows[0] + static_cast<std::int64_t>(i)) return false;
  }
  return true;
}

}  // namespace

Tensor Affine::forward_sparse(const SparseBatch& x, bool train) {
  if (W_.dtype() != DType::f32) return Layer::forward_sparse(x, train);
  if (x.pixels == nullptr) throw ValueError("Affine: the sparse batch has no pixels");
  x_ = Tensor();
  Tensor y = add_bias(x.size());
  // Rows picked at random (a training batch) are first copied together: their cache
  // misses then overlap, and backward finds them in the cache. A run of rows (an
  // evaluation block) is read in place.
  staged_input_ = !consecutive(x.rows);
  if (staged_input_) {
    staged_.assign_rows(*x.pixels, x.rows);
    sparse_x_.pixels = &staged_;
    sparse_x_.rows.resize(x.rows.size());
    std::iota(sparse_x_.rows.begin(), sparse_x_.rows.end(), 0);
    sparse_x_.columns = x.columns;  // the same rows in the same order
  } else {
    sparse_x_ = x;
  }
  // only the non-zero pixels contribute to X (N, D) . W (D, M)
  packed_W_.pack(W_.value());
  sparse_matmul(sparse_x_, packed_W_, y, workers_.get());
  if (train) {
    x_shape_ = {x.size(), W_.value().size(0)};
  } else {
    sparse_x_.pixels = nullptr;
    x_shape_.clear();
  }
  return y;
}

void Affine::set_threads(int threads) {
  workers_ = threads > 1 ? std::make_unique<Workers>(threads) : nullptr;
}

Tensor Affine::add_bias(std::int64_t n) const {
  const std::int64_t m = b_.value().size(0);
  Tensor y = Tensor::empty({n, m}, b_.dtype());  // every element set below
  visit_dtype(y.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pb = b_.value().data<T>();
    T* py = y.data<T>();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) py[i * m + j] = pb[j];
  });
  return y;
}

Tensor Affine::backward(const Tensor& dout) {
  const bool sparse = sparse_x_.pixels != nullptr;
  if (!x_.defined() && !sparse) {
    throw ValueError("Affine: backward needs a forward with train = true first");
  }
  const Tensor& W = W_.value();
  const Shape expected{sparse ? sparse_x_.size() : x_.size(0), W.size(1)};
  if (dout.shape() != expected) {
    throw ShapeError("Affine backward: dout " + shape_str(dout.shape()) +
                     ", expected (N, M) = " + shape_str(expected));
  }
  // dW (D, M) += X^T (D, N) . dY (N, M), straight into W's gradient
  if (sparse) {
    if (staged_input_) sparse_x_.pixels = &staged_;  // (in case this layer was moved)
    sparse_matmul_tn(sparse_x_, dout, W_.grad(), sparse_workspace_, workers_.get());
  } else {
    gemm(x_, true, dout, false, 1.0, 1.0, W_.grad());
  }
  // db (M) += sum of dY over the batch
  Tensor& db = b_.grad();
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pd = dout.data<T>();
    T* pb = db.data<T>();
    const std::int64_t n = expected[0], m = expected[1];
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) pb[j] += pd[i * m + j];
  });
  if (!input_grad_) return Tensor();
  // dX (N, D) = dY (N, M) . W^T (M, D), in the input's shape
  return matmul(dout, W, false, true).reshape(x_shape_);
}

}  // namespace nabla
