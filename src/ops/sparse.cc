// Products with sparse pixel rows: only the non-zero pixels contribute.
#include "nabla/sparse.h"

#include <algorithm>
#include <limits>
#include <string>

#include "parallel.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace nabla {

SparsePixels::SparsePixels(const std::uint8_t* pixels, std::int64_t rows, std::int64_t cols,
                           float scale)
    : cols_(cols), scale_(scale) {
  if (cols > std::numeric_limits<std::uint16_t>::max() + 1) {
    throw ValueError("SparsePixels: " + std::to_string(cols) + " columns; at most 65536");
  }
  // Two passes: count the non-zeros, then fill arrays of exactly that size.
  row_begin_.assign(static_cast<std::size_t>(rows + 1), 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint8_t* row = pixels + r * cols;
    std::int64_t n = 0;
    for (std::int64_t c = 0; c < cols; ++c) n += row[c] != 0;
    row_begin_[static_cast<std::size_t>(r + 1)] = row_begin_[static_cast<std::size_t>(r)] + n;
  }
  index_.resize(static_cast<std::size_t>(row_begin_.back()));
  value_.resize(static_cast<std::size_t>(row_begin_.back()));
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint8_t* row = pixels + r * cols;
    auto e = static_cast<std::size_t>(row_begin_[static_cast<std::size_t>(r)]);
    for (std::int64_t c = 0; c < cols; ++c) {
      if (row[c] != 0) {
        index_[e] = static_cast<std::uint16_t>(c);
        value_[e++] = row[c];
      }
    }
  }
}

SparsePixels SparsePixels::from_dataset(const Dataset& data) {
  return SparsePixels(data.images.data(), data.size, data.features, 1.0f / 255.0f);
}

Tensor SparseBatch::to_dense(DType dtype) const {
  Tensor x({size(), pixels->cols()}, dtype);
  for (std::int64_t i = 0; i < size(); ++i) {
    std::int64_t r = rows[static_cast<std::size_t>(i)];
    for (std::int64_t e = pixels->row_begin(r); e < pixels->row_begin(r + 1); ++e) {
      x.set(i * pixels->cols() + pixels->index()[e],
            static_cast<double>(pixels->value()[e]) * static_cast<double>(pixels->scale()));
    }
  }
  return x;
}

namespace {

void check(const SparseBatch& x, const Tensor& W, const Tensor& other, const Shape& other_shape,
           const char* op, const char* other_name) {
  if (x.pixels == nullptr) throw ValueError(std::string(op) + ": batch has no pixels");
  for (std::int64_t r : x.rows) {
    if (r < 0 || r >= x.pixels->rows()) {
      throw ValueError(std::string(op) + ": row " + std::to_string(r) + " outside [0, " +
                       std::to_string(x.pixels->rows()) + ")");
    }
  }
  if (W.rank() != 2 || W.size(0) != x.pixels->cols()) {
    throw ShapeError(std::string(op) + ": (" + std::to_string(x.size()) + "," +
                     std::to_string(x.pixels->cols()) + ") x " + shape_str(W.shape()) +
                     ": inner dimensions differ");
  }
  if (W.dtype() != DType::f32 || other.dtype() != DType::f32) {
    throw ValueError(std::string(op) + ": sparse products are float32");
  }
  if (other.shape() != other_shape) {
    throw ShapeError(std::string(op) + ": " + other_name + " is " + shape_str(other.shape()) +
                     ", expected " + shape_str(other_shape));
  }
}

}  // namespace

namespace {

// The two inner kernels, for one row of the batch with entries [e0, e1):
//   gather:  y[0:m] += sum_e v_e * w[c_e, 0:m]        (forward)
//   scatter: w[c_e, 0:m] += v_e * d[0:m] for every e   (dW)
// The AVX-512 versions keep a tile of 64 outputs in four registers across all entries;
// masks cover the tile's tail. The plain loops are the reference (and the fallback).

void gather_plain(const SparsePixels& px, std::int64_t e0, std::int64_t e1, const float* w,
                  std::int64_t m, float* y) {
  for (std::int64_t e = e0; e < e1; ++e) {
    const float v = px.scale() * static_cast<float>(px.value()[e]);
    const float* wc = w + static_cast<std::int64_t>(px.index()[e]) * m;
    for (std::int64_t j = 0; j < m; ++j) y[j] += v * wc[j];
  }
}

void scatter_plain(const SparsePixels& px, std::int64_t e0, std::int64_t e1, const float* d,
                   std::int64_t m, float* w) {
  for (std::int64_t e = e0; e < e1; ++e) {
    const float v = px.scale() * static_cast<float>(px.value()[e]);
    float* wc = w + static_cast<std::int64_t>(px.index()[e]) * m;
    for (std::int64_t j = 0; j < m; ++j) wc[j] += v * d[j];
  }
}

#if defined(__AVX512F__)

// Masks for the four 16-float chunks of the 64-column tile starting at j0.
void tile_masks(std::int64_t j0, std::int64_t m, __mmask16 (&mask)[4]) {
  for (int k = 0; k < 4; ++k) {
    std::int64_t left = std::clamp<std::int64_t>(m - j0 - 16 * k, 0, 16);
    mask[k] = static_cast<__mmask16>((1u << left) - 1u);
  }
}

void gather_avx512(const SparsePixels& px, std::int64_t e0, std::int64_t e1, const float* w,
                   std::int64_t m, float* y) {
  const std::uint16_t* index = px.index();
  const std::uint8_t* value = px.value();
  const __m512 scale = _mm512_set1_ps(px.scale());
  for (std::int64_t j0 = 0; j0 < m; j0 += 64) {
    __mmask16 mask[4];
    tile_masks(j0, m, mask);
    __m512 acc0 = _mm512_maskz_loadu_ps(mask[0], y + j0);
    __m512 acc1 = _mm512_maskz_loadu_ps(mask[1], y + j0 + 16);
    __m512 acc2 = _mm512_maskz_loadu_ps(mask[2], y + j0 + 32);
    __m512 acc3 = _mm512_maskz_loadu_ps(mask[3], y + j0 + 48);
    for (std::int64_t e = e0; e < e1; ++e) {
      const __m512 v = _mm512_mul_ps(scale, _mm512_set1_ps(static_cast<float>(value[e])));
      const float* wc = w + static_cast<std::int64_t>(index[e]) * m + j0;
      acc0 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask[0], wc), acc0);
      acc1 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask[1], wc + 16), acc1);
      acc2 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask[2], wc + 32), acc2);
      acc3 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask[3], wc + 48), acc3);
    }
    _mm512_mask_storeu_ps(y + j0, mask[0], acc0);
    _mm512_mask_storeu_ps(y + j0 + 16, mask[1], acc1);
    _mm512_mask_storeu_ps(y + j0 + 32, mask[2], acc2);
    _mm512_mask_storeu_ps(y + j0 + 48, mask[3], acc3);
  }
}

// Stores only whole 16-float chunks from registers and finishes the tail in scalar code:
// a masked store's full 64-byte footprint would overlap the next pixel's row (pixels
// next to each other are common) and make that row's load wait for the store.
void scatter_avx512(const SparsePixels& px, std::int64_t e0, std::int64_t e1, const float* d,
                    std::int64_t m, float* w) {
  const std::uint16_t* index = px.index();
  const std::uint8_t* value = px.value();
  const std::int64_t full = m / 16 * 16;
  for (std::int64_t e = e0; e < e1; ++e) {
    const float v = px.scale() * static_cast<float>(value[e]);
    const __m512 vv = _mm512_set1_ps(v);
    float* wc = w + static_cast<std::int64_t>(index[e]) * m;
    for (std::int64_t j = 0; j < full; j += 16) {
      _mm512_storeu_ps(wc + j, _mm512_fmadd_ps(vv, _mm512_loadu_ps(d + j), _mm512_loadu_ps(wc + j)));
    }
    for (std::int64_t j = full; j < m; ++j) wc[j] += v * d[j];
  }
}

#endif

void gather_row(const SparsePixels& px, std::int64_t r, const float* w, std::int64_t m,
                float* y) {
#if defined(__AVX512F__)
  gather_avx512(px, px.row_begin(r), px.row_begin(r + 1), w, m, y);
#else
  gather_plain(px, px.row_begin(r), px.row_begin(r + 1), w, m, y);
#endif
}

void scatter_row(const SparsePixels& px, std::int64_t r, const float* d, std::int64_t m,
                 float* w) {
#if defined(__AVX512F__)
  scatter_avx512(px, px.row_begin(r), px.row_begin(r + 1), d, m, w);
#else
  scatter_plain(px, px.row_begin(r), px.row_begin(r + 1), d, m, w);
#endif
}

}  // namespace

void sparse_matmul(const SparseBatch& x, const Tensor& W, Tensor& y, int threads) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  const float* w = W.data<float>();
  float* out = y.data<float>();
  parallel_for(threads, x.size(), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      gather_row(*x.pixels, x.rows[static_cast<std::size_t>(i)], w, m, out + i * m);
    }
  });
}

void sparse_matmul_tn(const SparseBatch& x, const Tensor& dY, Tensor& dW) {
  const std::int64_t m = dW.rank() == 2 ? dW.size(1) : 0;
  check(x, dW, dY, {x.size(), m}, "sparse_matmul_tn", "dY");
  const float* dy = dY.data<float>();
  float* dw = dW.data<float>();
  for (std::int64_t i = 0; i < x.size(); ++i) {
    scatter_row(*x.pixels, x.rows[static_cast<std::size_t>(i)], dy + i * m, m, dw);
  }
}

void sparse_matmul_reference(const SparseBatch& x, const Tensor& W, Tensor& y) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  for (std::int64_t i = 0; i < x.size(); ++i) {
    std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    gather_plain(*x.pixels, x.pixels->row_begin(r), x.pixels->row_begin(r + 1),
                 W.data<float>(), m, y.data<float>() + i * m);
  }
}

void sparse_matmul_tn_reference(const SparseBatch& x, const Tensor& dY, Tensor& dW) {
  const std::int64_t m = dW.rank() == 2 ? dW.size(1) : 0;
  check(x, dW, dY, {x.size(), m}, "sparse_matmul_tn", "dY");
  for (std::int64_t i = 0; i < x.size(); ++i) {
    std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    scatter_plain(*x.pixels, x.pixels->row_begin(r), x.pixels->row_begin(r + 1),
                  dY.data<float>() + i * m, m, dW.data<float>());
  }
}

}  // namespace nabla
