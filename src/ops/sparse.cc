// Products with sparse pixel rows: only the non-zero pixels contribute.
#include "nabla/sparse.h"

#include <algorithm>
#include <limits>
#include <string>

#include "huge_pages.h"

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
  const auto nonzeros = static_cast<std::size_t>(row_begin_.back());
  index_.reserve(nonzeros);
  value_.reserve(nonzeros);
  advise_huge_pages(index_.data(), nonzeros * sizeof(std::uint16_t));
  advise_huge_pages(value_.data(), nonzeros);
  index_.resize(nonzeros);
  value_.resize(nonzeros);
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

// The two inner kernels, for one row of the batch with entries [e0, e1):
//   gather:  y[0:m] += sum_e v_e * w[c_e, 0:m]        (forward)
//   scatter: w[c_e, 0:m] += v_e * d[0:m] for every e   (dW)
// The AVX-512 gather keeps a tile of 64 outputs in registers across all entries (masked
// loads only for the tail); the AVX-512 scatter writes whole chunks into a padded,
// aligned workspace. The plain loops are the reference (and the fallback).

// pixel -> pixel * scale for all 256 pixel values: one load instead of a conversion.
struct ScaledPixels {
  alignas(64) float of[256];
  explicit ScaledPixels(float scale) {
    for (int p = 0; p < 256; ++p) of[p] = static_cast<float>(p) * scale;
  }
};

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

// y[j0 : j0 + 16 * kFull (+ tail)] += sum_e v_e * w[c_e, same columns]: kFull whole chunks
// of 16 outputs and, if kTail, one partial chunk under `tail`, all kept in registers
// across the row's entries. (Masked loads only where needed: they are slower.)
template <int kFull, bool kTail>
void gather_tile(const SparsePixels& px, const ScaledPixels& scaled, std::int64_t e0,
                 std::int64_t e1, const float* w, std::int64_t m, float* y, __mmask16 tail) {
  constexpr int kChunks = kFull + (kTail ? 1 : 0);
  const std::uint16_t* index = px.index();
  const std::uint8_t* value = px.value();
  // Two sets of accumulators, for even and odd entries, so that an entry's FMAs need not
  // wait for the previous entry's (FMA latency, not throughput, would set the pace).
  __m512 even[kChunks], odd[kChunks];
  for (int k = 0; k < kFull; ++k) even[k] = _mm512_loadu_ps(y + 16 * k);
  if constexpr (kTail) even[kFull] = _mm512_maskz_loadu_ps(tail, y + 16 * kFull);
  for (int k = 0; k < kChunks; ++k) odd[k] = _mm512_setzero_ps();
  auto add_entry = [&](std::int64_t e, __m512(&acc)[kChunks]) {
    const __m512 v = _mm512_set1_ps(scaled.of[value[e]]);
    const float* wc = w + static_cast<std::int64_t>(index[e]) * m;
    for (int k = 0; k < kFull; ++k)
      acc[k] = _mm512_fmadd_ps(v, _mm512_loadu_ps(wc + 16 * k), acc[k]);
    if constexpr (kTail) {
      acc[kFull] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, wc + 16 * kFull), acc[kFull]);
    }
  };
  std::int64_t e = e0;
  for (; e + 1 < e1; e += 2) {
    add_entry(e, even);
    add_entry(e + 1, odd);
  }
  if (e < e1) add_entry(e, even);
  for (int k = 0; k < kFull; ++k) _mm512_storeu_ps(y + 16 * k, _mm512_add_ps(even[k], odd[k]));
  if constexpr (kTail) {
    _mm512_mask_storeu_ps(y + 16 * kFull, tail, _mm512_add_ps(even[kFull], odd[kFull]));
  }
}

void gather_avx512(const SparsePixels& px, const ScaledPixels& scaled, std::int64_t e0,
                   std::int64_t e1, const float* w, std::int64_t m, float* y) {
  for (std::int64_t j0 = 0; j0 < m; j0 += 64) {
    const std::int64_t left = m - j0;
    const float* wt = w + j0;
    float* yt = y + j0;
    if (left >= 64) {
      gather_tile<4, false>(px, scaled, e0, e1, wt, m, yt, 0);
      continue;
    }
    const auto tail = static_cast<__mmask16>((1u << (left % 16)) - 1u);
    switch (left / 16) {
      case 0:
        gather_tile<0, true>(px, scaled, e0, e1, wt, m, yt, tail);
        break;
      case 1:
        tail ? gather_tile<1, true>(px, scaled, e0, e1, wt, m, yt, tail)
             : gather_tile<1, false>(px, scaled, e0, e1, wt, m, yt, tail);
        break;
      case 2:
        tail ? gather_tile<2, true>(px, scaled, e0, e1, wt, m, yt, tail)
             : gather_tile<2, false>(px, scaled, e0, e1, wt, m, yt, tail);
        break;
      default:
        tail ? gather_tile<3, true>(px, scaled, e0, e1, wt, m, yt, tail)
             : gather_tile<3, false>(px, scaled, e0, e1, wt, m, yt, tail);
        break;
    }
  }
}

// w[c_e, j0 : j0 + 16 kChunks] += v_e * d[same] into a padded, 64-byte aligned workspace
// (row stride a multiple of 16 floats): whole aligned chunks only, so no store straddles
// two cache lines or overlaps the next pixel's row.
template <int kChunks>
void scatter_tile(const SparsePixels& px, const ScaledPixels& scaled, std::int64_t e0,
                  std::int64_t e1, const float* d, __mmask16 last, std::int64_t stride, float* w) {
  const std::uint16_t* index = px.index();
  const std::uint8_t* value = px.value();
  __m512 dk[kChunks];
  for (int k = 0; k + 1 < kChunks; ++k) dk[k] = _mm512_loadu_ps(d + 16 * k);
  dk[kChunks - 1] = _mm512_maskz_loadu_ps(last, d + 16 * (kChunks - 1));
  for (std::int64_t e = e0; e < e1; ++e) {
    const __m512 v = _mm512_set1_ps(scaled.of[value[e]]);
    float* wc = w + static_cast<std::int64_t>(index[e]) * stride;
    for (int k = 0; k < kChunks; ++k) {
      _mm512_store_ps(wc + 16 * k, _mm512_fmadd_ps(v, dk[k], _mm512_load_ps(wc + 16 * k)));
    }
  }
}

void scatter_avx512(const SparsePixels& px, const ScaledPixels& scaled, std::int64_t e0,
                    std::int64_t e1, const float* d, std::int64_t m, std::int64_t stride,
                    float* w) {
  for (std::int64_t j0 = 0; j0 < m; j0 += 64) {
    const std::int64_t left = std::min<std::int64_t>(m - j0, 64);
    const auto last = static_cast<__mmask16>(left % 16 ? (1u << (left % 16)) - 1u : 0xFFFFu);
    switch ((left + 15) / 16) {
      case 1:
        scatter_tile<1>(px, scaled, e0, e1, d + j0, last, stride, w + j0);
        break;
      case 2:
        scatter_tile<2>(px, scaled, e0, e1, d + j0, last, stride, w + j0);
        break;
      case 3:
        scatter_tile<3>(px, scaled, e0, e1, d + j0, last, stride, w + j0);
        break;
      default:
        scatter_tile<4>(px, scaled, e0, e1, d + j0, last, stride, w + j0);
        break;
    }
  }
}

#endif

// Rows of a batch are scattered over the data set: start loading a row's entries this
// many rows before it is needed.
constexpr std::int64_t kPrefetchAhead = 1;

// Starts loading row r's entries into the cache while the current row is worked on.
void prefetch_row(const SparsePixels& px, std::int64_t r) {
  const std::int64_t b = px.row_begin(r), n = px.row_begin(r + 1) - b;
  for (std::int64_t e = 0; e < n; e += 32) __builtin_prefetch(px.index() + b + e);
  for (std::int64_t e = 0; e < n; e += 64) __builtin_prefetch(px.value() + b + e);
}

void gather_row(const SparsePixels& px, [[maybe_unused]] const ScaledPixels& scaled, std::int64_t r,
                const float* w, std::int64_t m, float* y) {
#if defined(__AVX512F__)
  gather_avx512(px, scaled, px.row_begin(r), px.row_begin(r + 1), w, m, y);
#else
  gather_plain(px, px.row_begin(r), px.row_begin(r + 1), w, m, y);
#endif
}

// Below this many rows a part, waking another thread costs more than it saves (measured:
// a 100-row training batch is slower on two threads even on an idle machine, 1.55 s
// against 1.43 s for the recipe; a 2000-row evaluation block is faster, 0.29 s against 0.49).
constexpr std::int64_t kMinRowsPerPart = 256;

Workers* worth_splitting(Workers* workers, std::int64_t rows) {
  return workers != nullptr && rows >= kMinRowsPerPart * workers->size() ? workers : nullptr;
}

}  // namespace

void sparse_matmul(const SparseBatch& x, const Tensor& W, Tensor& y, Workers* workers) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  const float* w = W.data<float>();
  float* out = y.data<float>();
  const ScaledPixels scaled(x.pixels->scale());
  auto rows = [&](int part, int parts) {
    auto [i0, i1] = part_range(x.size(), part, parts);
    for (std::int64_t i = i0; i < i1; ++i) {
      if (i + kPrefetchAhead < i1) {
        prefetch_row(*x.pixels, x.rows[static_cast<std::size_t>(i + kPrefetchAhead)]);
      }
      gather_row(*x.pixels, scaled, x.rows[static_cast<std::size_t>(i)], w, m, out + i * m);
    }
  };
  if (Workers* split = worth_splitting(workers, x.size())) {
    split->run(rows);
  } else {
    rows(0, 1);
  }
}

void sparse_matmul_tn(const SparseBatch& x, const Tensor& dY, Tensor& dW, Tensor& workspace,
                      Workers* workers) {
  const std::int64_t m = dW.rank() == 2 ? dW.size(1) : 0;
  check(x, dW, dY, {x.size(), m}, "sparse_matmul_tn", "dY");
  const float* dy = dY.data<float>();
  float* dw = dW.data<float>();
  const SparsePixels& px = *x.pixels;
#if defined(__AVX512F__)
  // Each part accumulates its rows of the batch into its own zeroed slice of rows padded
  // to whole chunks; then the slices are added into dW (and zeroed for the next call).
  workers = worth_splitting(workers, x.size());
  const int parts = workers != nullptr ? workers->size() : 1;
  const std::int64_t d = dW.size(0), stride = (m + 15) / 16 * 16;
  const Shape shape{parts, d, stride};
  if (workspace.shape() != shape || workspace.dtype() != DType::f32) {
    workspace = Tensor(shape, DType::f32);  // zeros; kept zero between calls
  }
  float* ws = workspace.data<float>();
  const ScaledPixels scaled(px.scale());
  auto scatter = [&](int part, int n_parts) {
    auto [i0, i1] = part_range(x.size(), part, n_parts);
    float* slice = ws + part * d * stride;
    for (std::int64_t i = i0; i < i1; ++i) {
      std::int64_t r = x.rows[static_cast<std::size_t>(i)];
      if (i + kPrefetchAhead < i1) {
        prefetch_row(px, x.rows[static_cast<std::size_t>(i + kPrefetchAhead)]);
      }
      scatter_avx512(px, scaled, px.row_begin(r), px.row_begin(r + 1), dy + i * m, m, stride,
                     slice);
    }
  };
  auto add_back = [&](int part, int n_parts) {
    auto [c0, c1] = part_range(d, part, n_parts);
    for (int p = 0; p < parts; ++p) {
      float* slice = ws + p * d * stride;
      for (std::int64_t c = c0; c < c1; ++c) {
        for (std::int64_t j = 0; j < m; ++j) {
          dw[c * m + j] += slice[c * stride + j];
          slice[c * stride + j] = 0;
        }
      }
    }
  };
  if (workers != nullptr) {
    workers->run(scatter);
    workers->run(add_back);
  } else {
    scatter(0, 1);
    add_back(0, 1);
  }
#else
  (void)workspace;
  (void)workers;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    scatter_plain(px, px.row_begin(r), px.row_begin(r + 1), dy + i * m, m, dw);
  }
#endif
}

void sparse_matmul_reference(const SparseBatch& x, const Tensor& W, Tensor& y) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  for (std::int64_t i = 0; i < x.size(); ++i) {
    std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    gather_plain(*x.pixels, x.pixels->row_begin(r), x.pixels->row_begin(r + 1), W.data<float>(), m,
                 y.data<float>() + i * m);
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
