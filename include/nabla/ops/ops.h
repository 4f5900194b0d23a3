// nabla/ops.h — primitive operations, each in two forms:
//   * on Tensors: plain computation, nothing recorded (inference, layers' internals);
//   * on Vars: the same computation recorded as a graph node whose backward applies
//     the chain rule (see graph.h).
//
// Binary elementwise ops broadcast NumPy-style (shapes aligned from the right; an axis
// of size 1 or a missing axis is repeated), so a bias row (M) adds to a batch (N, M).
// The gradient of a broadcast operand is summed back to the operand's shape.
// Shape mistakes throw ShapeError naming the op and both shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

class Workers;

// ---- Tensor-level (no graph) -------------------------------------------------------

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Sums t over the axes that broadcasting added or repeated, giving a tensor of `shape`.
Tensor sum_to(const Tensor& t, const Shape& shape);

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor pow(const Tensor& a, double p);
Tensor square(const Tensor& a);
Tensor scale(const Tensor& a, double s);       // a * s
Tensor add_scalar(const Tensor& a, double s);  // a + s
Tensor relu(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);

// 2-d matrix product; trans_a / trans_b use a^T / b^T without copying.
// "matmul: (100,784) x (50,10): inner dimensions differ".
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// out = alpha * op(a) * op(b) + beta * out, into an existing tensor of the right shape
// (BLAS gemm). The hot loops use this to avoid allocation. A product of kGemmSplitAbove
// multiply-adds or more runs as kGemmParts bands of out's rows (or columns, when op(b) is
// the larger operand), whatever the threads (the same bits with workers or without), in
// parallel on the current workers (detail/workers.h) when there are any.
constexpr std::int64_t kGemmSplitAbove = std::int64_t{1} << 24;
constexpr int kGemmParts = 2;
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double alpha, double beta,
          Tensor& out);

Tensor sum(const Tensor& a);                     // scalar (rank 0)
Tensor sum(const Tensor& a, std::int64_t axis);  // that axis removed
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, std::int64_t axis);
Tensor max(const Tensor& a);                     // scalar
Tensor max(const Tensor& a, std::int64_t axis);  // that axis removed
// Index of the largest element of each row of a 2-d tensor (first one on ties).
std::vector<std::int64_t> argmax_rows(const Tensor& a);
// How many rows of scores (N, C) have their argmax at the label (the one place accuracy
// is counted). Throws ValueError naming `op` when there are not N labels.
std::int64_t count_correct(const Tensor& scores, const std::vector<std::int64_t>& labels,
                           const char* op = "accuracy");
// count_correct / N; throws ValueError naming `op` for an empty batch.
double accuracy(const Tensor& scores, const std::vector<std::int64_t>& labels,
                const char* op = "accuracy");
Tensor transpose(const Tensor& a);  // 2-d
// Row-wise softmax of a 2-d tensor (or of a vector), stable: the row max is subtracted.
Tensor softmax(const Tensor& a);

// Largest |a - b| over all elements (shapes must match).
double max_abs_diff(const Tensor& a, const Tensor& b);
// True if every element is finite.
bool all_finite(const Tensor& a);
// The index of the first element that is NaN or infinite, or -1 if there is none.
std::int64_t first_non_finite(const Tensor& a);

// ---- Var-level (recorded in the graph) ---------------------------------------------

Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
// Elementwise max: the gradient is routed to the larger input (to a on ties).
Var maximum(const Var& a, const Var& b);
Var neg(const Var& a);
Var exp(const Var& a);
Var log(const Var& a);
Var pow(const Var& a, double p);
Var square(const Var& a);
Var scale(const Var& a, double s);
Var add_scalar(const Var& a, double s);
Var reciprocal(const Var& a);  // 1 / a
Var relu(const Var& a);
Var sigmoid(const Var& a);  // fused: backward is dout * y * (1 - y)
Var tanh(const Var& a);     // fused: backward is dout * (1 - y^2)
Var matmul(const Var& a, const Var& b);
Var sum(const Var& a);
Var sum(const Var& a, std::int64_t axis);
Var mean(const Var& a);
Var mean(const Var& a, std::int64_t axis);
// Max over all elements / one axis: the gradient goes to the first maximal element.
Var max(const Var& a);
Var max(const Var& a, std::int64_t axis);
Var reshape(const Var& a, Shape shape);
Var transpose(const Var& a);
Var softmax(const Var& a);

// Operators read like the textbook's formulas.
inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
inline Var operator/(const Var& a, const Var& b) { return div(a, b); }
inline Var operator-(const Var& a) { return neg(a); }
inline Var operator+(const Var& a, double s) { return add_scalar(a, s); }
inline Var operator+(double s, const Var& a) { return add_scalar(a, s); }
inline Var operator-(const Var& a, double s) { return add_scalar(a, -s); }
inline Var operator*(const Var& a, double s) { return scale(a, s); }
inline Var operator*(double s, const Var& a) { return scale(a, s); }

}  // namespace nabla
NABLA_API_END
