// Matrix product through BLAS (OpenBLAS): forward and backward.
#include <cblas.h>

#include <algorithm>

#include "nabla/detail/workers.h"
#include "nabla/ops/ops.h"
#include "ops/tensor_loops.h"

namespace nabla {

namespace {

// Rows and columns of op(t) for a 2-d t.
std::pair<std::int64_t, std::int64_t> op_dims(const Tensor& t, bool trans) {
  return trans ? std::pair{t.shape()[1], t.shape()[0]} : std::pair{t.shape()[0], t.shape()[1]};
}

void check_matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const char* op) {
  if (a.rank() != 2 || b.rank() != 2) {
    throw ShapeError(std::string(op) + ": " + shape_str(a.shape()) + " x " + shape_str(b.shape()) +
                     ": both operands must be 2-d");
  }
  kernels::check_same_dtype(a, b, op);
  if (op_dims(a, trans_a).second != op_dims(b, trans_b).first) {
    std::string ta = trans_a ? "^T" : "", tb = trans_b ? "^T" : "";
    throw ShapeError(std::string(op) + ": " + shape_str(a.shape()) + ta + " x " +
                     shape_str(b.shape()) + tb + ": inner dimensions differ");
  }
}

}  // namespace

void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double alpha, double beta,
          Tensor& out) {
  check_matmul(a, trans_a, b, trans_b, "gemm");
  // (plain variables, not a structured binding: the lambdas below capture them)
  const std::int64_t m = op_dims(a, trans_a).first, k = op_dims(a, trans_a).second;
  const std::int64_t n = op_dims(b, trans_b).second;
  if (out.shape() != Shape{m, n} || out.dtype() != a.dtype()) {
    throw ShapeError("gemm: output is " + shape_str(out.shape()) + " " + dtype_name(out.dtype()) +
                     ", expected " + shape_str({m, n}) + " " + dtype_name(a.dtype()));
  }
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // BLAS leaves out untouched when k = 0 only if beta is 1; make beta * out explicit.
    out = scale(out, beta);
    return;
  }
  // The block [r0, r1) x [c0, c1) of out: op(a)'s rows from r0 (a's columns when
  // transposed), op(b)'s columns from c0 (b's rows when transposed).
  auto block = [&](std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1) {
    const std::int64_t a_at = trans_a ? r0 : r0 * a.shape()[1];
    const std::int64_t b_at = trans_b ? c0 * b.shape()[1] : c0;
    visit_dtype(a.dtype(), [&](auto type) {
      using T = decltype(type);
      kernels::gemm_raw(trans_a, trans_b, r1 - r0, c1 - c0, k, alpha, a.data<T>() + a_at,
                        a.shape()[1], b.data<T>() + b_at, b.shape()[1], beta,
                        out.data<T>() + r0 * n + c0, n);
    });
  };
  // A large product goes in kGemmParts bands whatever the threads (so that the results do
  // not depend on them), on the workers' threads when there are any: bands of rows when
  // op(a) is the larger operand (each band reads its share of it), else of columns.
  if (m * n * k >= kGemmSplitAbove && std::max(m, n) >= kGemmParts) {
    const bool by_rows = m >= n;
    run_parts(kGemmParts, [&](int part) {
      const auto [first, last] = part_range(by_rows ? m : n, part, kGemmParts);
      if (by_rows) {
        block(first, last, 0, n);
      } else {
        block(0, m, first, last);
      }
    });
  } else {
    block(0, m, 0, n);
  }
}

namespace kernels {

void gemm_raw(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
              double beta, float* c, std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), static_cast<float>(alpha), a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), static_cast<float>(beta), c, static_cast<blasint>(ldc));
}
void gemm_raw(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const double* a, std::int64_t lda, const double* b, std::int64_t ldb,
              double beta, double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

}  // namespace kernels

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_matmul(a, trans_a, b, trans_b, "matmul");
  Tensor out({op_dims(a, trans_a).first, op_dims(b, trans_b).second}, a.dtype());
  gemm(a, trans_a, b, trans_b, 1.0, 0.0, out);
  return out;
}

Var matmul(const Var& a, const Var& b) {
  // a: (M, K), b: (K, N), out: (M, N)
  return record("matmul", matmul(a.value(), b.value()), {a, b}, [a, b](const Tensor& dout) {
    if (a.requires_grad()) accumulate_grad(a, matmul(dout, b.value(), false, true), "matmul");
    if (b.requires_grad()) accumulate_grad(b, matmul(a.value(), dout, true, false), "matmul");
  });
}

}  // namespace nabla
