// Private helpers for writing ops: elementwise loops over tensors of either dtype (each
// takes a generic lambda, so one body serves float and double), and the raw BLAS product.
#pragma once

#include <string>
#include <vector>

#include "nabla/core/tensor.h"
#include "nabla/ops/ops.h"

namespace nabla::kernels {

inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  check_floating(a, op);
  check_floating(b, op);
  if (a.dtype() != b.dtype()) {
    throw ValueError(std::string(op) + ": dtypes differ: " + dtype_name(a.dtype()) + " vs " +
                     dtype_name(b.dtype()));
  }
}

inline void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() != b.shape()) {
    throw ShapeError(std::string(op) + ": " + shape_str(a.shape()) + " vs " + shape_str(b.shape()) +
                     ": shapes differ");
  }
  check_same_dtype(a, b, op);
}

// c = alpha op(a) op(b) + beta c through BLAS on raw row-major storage, c's rows ldc
// apart (matmul.cc; gemm and the convolution's per-image products).
void gemm_raw(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
              double beta, float* c, std::int64_t ldc);
void gemm_raw(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const double* a, std::int64_t lda, const double* b, std::int64_t ldb,
              double beta, double* c, std::int64_t ldc);

// out[i] = f(a[i])
template <class F>
Tensor map(const Tensor& a, const char* op, F f) {
  check_floating(a, op);
  Tensor out = Tensor::empty(a.shape(), a.dtype());  // written whole below
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    for (std::int64_t i = 0; i < a.numel(); ++i) po[i] = static_cast<T>(f(pa[i]));
  });
  return out;
}

// out[i] = f(a[i], b[i]) for tensors of one shape.
template <class F>
Tensor zip(const Tensor& a, const Tensor& b, const char* op, F f) {
  check_same_shape(a, b, op);
  Tensor out = Tensor::empty(a.shape(), a.dtype());  // written whole below
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    for (std::int64_t i = 0; i < a.numel(); ++i) po[i] = static_cast<T>(f(pa[i], pb[i]));
  });
  return out;
}

// out[i] = f(a[i], b[i], c[i]) for tensors of one shape.
template <class F>
Tensor zip3(const Tensor& a, const Tensor& b, const Tensor& c, const char* op, F f) {
  check_same_shape(a, b, op);
  check_same_shape(a, c, op);
  Tensor out = Tensor::empty(a.shape(), a.dtype());  // written whole below
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const T* pc = c.data<T>();
    T* po = out.data<T>();
    for (std::int64_t i = 0; i < a.numel(); ++i) po[i] = static_cast<T>(f(pa[i], pb[i], pc[i]));
  });
  return out;
}

// Strides of `shape` seen from a broadcast result of rank `rank`: 0 on axes that
// broadcasting adds or repeats.
inline std::vector<std::int64_t> broadcast_strides(const Shape& shape, std::size_t rank) {
  std::vector<std::int64_t> strides(rank, 0);
  std::int64_t stride = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    std::size_t axis = shape.size() - 1 - i;
    std::size_t out_axis = rank - 1 - i;
    strides[out_axis] = shape[axis] == 1 ? 0 : stride;
    stride *= shape[axis];
  }
  return strides;
}

// Calls visit(out_index, a_index, b_index) for every element of the broadcast of
// shapes a and b into `out`, in row-major order of `out`.
template <class V>
void for_each_broadcast(const Shape& out, const Shape& a, const Shape& b, V visit) {
  std::size_t rank = out.size();
  std::int64_t n = shape_numel(out);
  if (n == 0) return;
  std::vector<std::int64_t> sa = broadcast_strides(a, rank), sb = broadcast_strides(b, rank);
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t ia = 0, ib = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    visit(i, ia, ib);
    // Advance the odometer; move the operand offsets along.
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < out[k]) {
        ia += sa[k];
        ib += sb[k];
        break;
      }
      ia -= sa[k] * (out[k] - 1);
      ib -= sb[k] * (out[k] - 1);
      index[k] = 0;
    }
  }
}

// out = f(a, b) with NumPy broadcasting.
template <class F>
Tensor broadcast_zip(const Tensor& a, const Tensor& b, const char* op, F f) {
  check_same_dtype(a, b, op);
  if (a.shape() == b.shape()) return zip(a, b, op, f);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out(shape, a.dtype());
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    for_each_broadcast(shape, a.shape(), b.shape(),
                       [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
                         po[i] = static_cast<T>(f(pa[ia], pb[ib]));
                       });
  });
  return out;
}

}  // namespace nabla::kernels
