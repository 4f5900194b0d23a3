// Softmax and cross-entropy error fused into one layer, whose backward is (y - t) / N.
#include <algorithm>
#include <cmath>
#include <string>

#include "layers/softmax_row.h"
#include "nabla/layers.h"
#include "nabla/ops.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace nabla {

namespace {

constexpr double kDelta = 1e-7;  // keeps log() away from log(0)

void check_batch(const Tensor& t, const char* op, const char* what) {
  if (t.rank() != 2) {
    throw ShapeError(std::string(op) + ": " + what + " " + shape_str(t.shape()) +
                     ", expected a batch (N, C)");
  }
}

// -(1/N) sum_i log(y[i, label_i] + delta)
double cross_entropy(const Tensor& y, const std::vector<std::int64_t>& labels) {
  const std::int64_t n = y.size(0), c = y.size(1);
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    total -= std::log(y.get(i * c + labels[static_cast<std::size_t>(i)]) + kDelta);
  }
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

// -(1/N) sum_i sum_j t[i, j] log(y[i, j] + delta)
double cross_entropy(const Tensor& y, const Tensor& one_hot) {
  const std::int64_t n = y.size(0);
  double total = 0;
  for (std::int64_t k = 0; k < y.numel(); ++k) {
    const double t = one_hot.get(k);
    if (t != 0) total -= t * std::log(y.get(k) + kDelta);
  }
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

}  // namespace

namespace {

// One row of scores s[0, c): y = softmax(s), returning log sum_k exp(s_k - m) + m.
template <class T>
double softmax_row_plain(const T* s, std::int64_t c, T* y) {
  const T m = *std::max_element(s, s + c);
  T sum = 0;
  for (std::int64_t j = 0; j < c; ++j) sum += (y[j] = std::exp(s[j] - m));
  const T inv = T{1} / sum;
  for (std::int64_t j = 0; j < c; ++j) y[j] *= inv;
  return std::log(static_cast<double>(sum)) + static_cast<double>(m);
}

#if defined(__AVX512F__)

// e^x for x <= 0, 16 at a time: x = k ln2 + r with |r| <= ln2 / 2, e^r by its Taylor
// series to r^7 (truncation error below 2e-9, under float rounding), then times 2^k by
// vscalefps, which also underflows correctly. NaN stays NaN.
__m512 exp_nonpositive(__m512 x) {
  // e^-104 is 0 in float; NaN compares false and passes
  const __m512 floor = _mm512_set1_ps(-104.0f);
  x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, floor, _CMP_LT_OQ), floor);
  // (the masked forms, all lanes on: GCC 12 warns about the unmasked ones' undefined source)
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 k =
      _mm512_mask_roundscale_ps(t, 0xFFFF, t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);  // ln 2, high bits
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860682030941723e-6f), r);    // and the rest
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  for (float coefficient : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) {
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(coefficient));
  }
  return _mm512_mask_scalef_ps(p, 0xFFFF, p, k);
}

// softmax_row_plain for a float row of at most 16 classes, in one vector.
double softmax_row_avx512(const float* s, std::int64_t c, float* y) {
  const auto lanes = static_cast<__mmask16>((1u << c) - 1u);
  const float m = *std::max_element(s, s + c);
  const __m512 x = _mm512_maskz_loadu_ps(lanes, s);
  alignas(64) float e[16];
  _mm512_store_ps(e, exp_nonpositive(_mm512_sub_ps(x, _mm512_set1_ps(m))));
  float sum = 0;
  for (std::int64_t j = 0; j < c; ++j) sum += e[j];  // in the plain loop's order
  _mm512_mask_storeu_ps(y, lanes, _mm512_mul_ps(_mm512_load_ps(e), _mm512_set1_ps(1.0f / sum)));
  return std::log(static_cast<double>(sum)) + static_cast<double>(m);
}

#endif

}  // namespace

double softmax_row(const float* s, std::int64_t c, float* y) {
#if defined(__AVX512F__)
  if (c <= 16) return softmax_row_avx512(s, c, y);
#endif
  return softmax_row_plain(s, c, y);
}

double softmax_row(const double* s, std::int64_t c, double* y) {
  return softmax_row_plain(s, c, y);
}

double cross_entropy_error(const Tensor& y, const Targets& t) {
  const char* op = "cross_entropy_error";
  check_batch(y, op, "probabilities");
  const std::int64_t n = y.size(0), c = y.size(1);
  if (t.is_one_hot()) return cross_entropy(y, t.one_hot(n, c, y.dtype(), op));
  return cross_entropy(y, t.indices(n, c, op));
}

double SoftmaxWithLoss::forward(const Tensor& scores, const Targets& t) {
  const char* op = "SoftmaxWithLoss";
  check_batch(scores, op, "scores");
  const std::int64_t n = scores.size(0), c = scores.size(1);
  // Labels first: a bad label leaves the layer as it was.
  if (t.is_one_hot()) {
    t_ = t.one_hot(n, c, scores.dtype(), op);
    labels_.clear();
  } else {
    labels_ = t.indices(n, c, op);
    t_ = Tensor();
  }
  // One pass per row: y = softmax(s) (stable: the row max m is subtracted), and the loss
  // from the same sums, -log y_j = log sum_k exp(s_k - m) + m - s_j. That never takes
  // log(0), needs no delta, and its exact gradient is (y - t) / N.
  y_.resize(scores.shape(), scores.dtype());
  double total = 0;
  visit_dtype(scores.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* s = scores.data<T>();
    T* y = y_.data<T>();
    for (std::int64_t i = 0; i < n; ++i) {
      const T* si = s + i * c;
      const double log_sum = softmax_row(si, c, y + i * c);
      if (t_.defined()) {
        for (std::int64_t j = 0; j < c; ++j) {
          const double weight = t_.get(i * c + j);
          if (weight != 0) total += weight * (log_sum - static_cast<double>(si[j]));
        }
      } else {
        total += log_sum - static_cast<double>(si[labels_[static_cast<std::size_t>(i)]]);
      }
    }
  });
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

Tensor SoftmaxWithLoss::backward(double dout) {
  if (!y_.defined()) throw ValueError("SoftmaxWithLoss: backward needs a forward first");
  const std::int64_t n = y_.size(0), c = y_.size(1);
  // dx = (y - t) * dout / N
  Tensor dx = y_;
  if (t_.defined()) {
    dx = sub(dx, t_);
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t at = i * c + labels_[static_cast<std::size_t>(i)];
      dx.set(at, dx.get(at) - 1.0);
    }
  }
  return n == 0 ? dx : scale(dx, dout / static_cast<double>(n));
}

}  // namespace nabla
