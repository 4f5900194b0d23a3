// Products with sparse pixel rows: only the non-zero pixels contribute.
#include "nabla/sparse.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>

#if defined(__AVX512F__) || defined(__AVX512BW__)
#include <immintrin.h>
#endif

namespace nabla {

namespace {

// The number of non-zero bytes of row[0, cols).
std::int64_t count_nonzeros(const std::uint8_t* row, std::int64_t cols) {
  std::int64_t n = 0;
  std::int64_t c = 0;
#if defined(__AVX512BW__)
  for (; c + 64 <= cols; c += 64) {
    const __m512i v = _mm512_loadu_si512(row + c);
    n += __builtin_popcountll(_mm512_test_epi8_mask(v, v));
  }
#endif
  for (; c < cols; ++c) n += row[c] != 0;
  return n;
}

// Writes the columns and values of row[0, cols)'s non-zero bytes; returns how many.
std::int64_t compress_row(const std::uint8_t* row, std::int64_t cols, std::uint16_t* index,
                          std::uint8_t* value) {
  std::int64_t n = 0;
  std::int64_t c = 0;
#if defined(__AVX512BW__) && defined(__AVX512VBMI2__)
  // 64 pixels at a time: the mask of non-zeros picks values and columns out of registers
  // (compressing in registers, then a masked store: no write past the row's entries).
  const __m512i lanes = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                         16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  auto first = [](int k) { return k >= 64 ? ~0ULL : (1ULL << k) - 1; };
  for (; c + 64 <= cols; c += 64) {
    const __m512i v = _mm512_loadu_si512(row + c);
    const __mmask64 nz = _mm512_test_epi8_mask(v, v);
    if (nz == 0) continue;
    const int k = __builtin_popcountll(nz);
    _mm512_mask_storeu_epi8(value + n, first(k), _mm512_maskz_compress_epi8(nz, v));
    const auto low = static_cast<__mmask32>(nz), high = static_cast<__mmask32>(nz >> 32);
    const int k_low = __builtin_popcount(low);
    const __m512i base = _mm512_add_epi16(lanes, _mm512_set1_epi16(static_cast<short>(c)));
    _mm512_mask_storeu_epi16(index + n, static_cast<__mmask32>(first(k_low)),
                             _mm512_maskz_compress_epi16(low, base));
    _mm512_mask_storeu_epi16(
        index + n + k_low, static_cast<__mmask32>(first(k - k_low)),
        _mm512_maskz_compress_epi16(high, _mm512_add_epi16(base, _mm512_set1_epi16(32))));
    n += k;
  }
#endif
  for (; c < cols; ++c) {
    if (row[c] != 0) {
      index[n] = static_cast<std::uint16_t>(c);
      value[n++] = row[c];
    }
  }
  return n;
}

}  // namespace

SparsePixels::SparsePixels(const std::uint8_t* pixels, std::int64_t rows, std::int64_t cols,
                           float scale, Workers* workers)
    : cols_(cols), scale_(scale) {
  if (cols > std::numeric_limits<std::uint16_t>::max() + 1) {
    throw ValueError("SparsePixels: " + std::to_string(cols) + " columns; at most 65536");
  }
  append_rows(pixels, rows, workers);
}

// Fewer rows than this are compressed on one thread (waking another would cost more).
constexpr std::int64_t kMinRowsToSplit = 4096;

void SparsePixels::append_rows(const std::uint8_t* pixels, std::int64_t rows, Workers* workers) {
  // Two passes: count each row's non-zeros, then compress the rows into arrays grown by
  // exactly that much. The arrays' new elements are not written before the rows are
  // (LargeVector), so with workers each part's pages are first touched by its own thread.
  const auto first = static_cast<std::size_t>(this->rows());
  row_begin_.resize(first + 1 + static_cast<std::size_t>(rows));
  std::int64_t* begin = row_begin_.data() + first;  // begin[r]: where row first + r starts
  auto parts = [&](const std::function<void(std::int64_t, std::int64_t)>& f) {
    if (workers != nullptr && rows >= kMinRowsToSplit) {
      workers->run([&](int part, int n) {
        auto [r0, r1] = part_range(rows, part, n);
        f(r0, r1);
      });
    } else {
      f(0, rows);
    }
  };
  parts([&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) begin[r + 1] = count_nonzeros(pixels + r * cols_, cols_);
  });
  for (std::int64_t r = 0; r < rows; ++r) begin[r + 1] += begin[r];
  index_.resize(static_cast<std::size_t>(begin[rows]));
  value_.resize(static_cast<std::size_t>(begin[rows]));
  parts([&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      compress_row(pixels + r * cols_, cols_, index_.data() + begin[r], value_.data() + begin[r]);
    }
  });
}

SparsePixels SparsePixels::from_dataset(const Dataset& data) {
  return SparsePixels(data.images.data(), data.size, data.features, 1.0f / 255.0f);
}

// Blocks of 8 MB: enough rows to split over workers (MNIST: 10,700 rows a block, 6 blocks),
// and only that much of the file mapped, or of its decompressed data buffered, at a time.
constexpr std::int64_t kBlockBytes = std::int64_t{8} << 20;

SparsePixels SparsePixels::read_idx(const std::string& path, float scale, Workers* workers) {
  SparsePixels px;
  px.scale_ = scale;
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  const bool gz = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  // What the file can hold, for reserving room up front without trusting its header: its
  // size, or for gzip a generous 16 times that (MNIST compresses 5 to 1).
  const std::uintmax_t can_hold = ec ? 0 : gz ? 16 * file_size : file_size;
  constexpr std::int64_t kMaxCols = std::numeric_limits<std::uint16_t>::max() + 1;
  const std::vector<std::int64_t> file_dims = read_idx_rows(
      path, 3,
      [&](const std::vector<std::int64_t>& dims, const std::uint8_t* data, std::int64_t first,
          std::int64_t count) {
        const std::int64_t cols = dims[1] * dims[2];  // at most kMaxCols (read_idx_rows)
        if (first == 0) {
          if (cols == 0) throw DataError(path + ": images of 0 pixels");
          px.cols_ = cols;
          const auto rows = static_cast<std::uintmax_t>(dims[0]);
          px.row_begin_.reserve(static_cast<std::size_t>(
              std::min(rows, can_hold / static_cast<std::uintmax_t>(cols)) + 1));
          if (count < dims[0]) {
            // More blocks to come: room for every pixel (only the pages used are ever
            // touched), so that the arrays never move while they grow.
            const auto room = static_cast<std::size_t>(
                std::min(rows * static_cast<std::uintmax_t>(cols), can_hold));
            px.index_.reserve(room);
            px.value_.reserve(room);
          }
        }
        px.append_rows(data, count, workers);
      },
      kBlockBytes, kMaxCols);
  px.cols_ = file_dims[1] * file_dims[2];  // (also when the file has no images)
  return px;
}

void SparsePixels::assign_rows(const SparsePixels& from, const std::vector<std::int64_t>& rows) {
  cols_ = from.cols_;
  scale_ = from.scale_;
  row_begin_.resize(rows.size() + 1);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t r = rows[i];
    if (r < 0 || r >= from.rows()) {
      throw ValueError("SparsePixels::assign_rows: row " + std::to_string(r) + " outside [0, " +
                       std::to_string(from.rows()) + ")");
    }
    row_begin_[i] = total;
    total += from.row_begin(r + 1) - from.row_begin(r);
  }
  row_begin_[rows.size()] = total;
  index_.resize(static_cast<std::size_t>(total));
  value_.resize(static_cast<std::size_t>(total));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t b = from.row_begin(rows[i]), n = from.row_begin(rows[i] + 1) - b;
    std::copy_n(from.index_.data() + b, n, index_.data() + row_begin_[i]);
    std::copy_n(from.value_.data() + b, n, value_.data() + row_begin_[i]);
  }
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

void check_batch(const SparseBatch& x, const char* op) {
  if (x.pixels == nullptr) throw ValueError(std::string(op) + ": batch has no pixels");
  for (std::int64_t r : x.rows) {
    if (r < 0 || r >= x.pixels->rows()) {
      throw ValueError(std::string(op) + ": row " + std::to_string(r) + " outside [0, " +
                       std::to_string(x.pixels->rows()) + ")");
    }
  }
}

void check_inner(const SparseBatch& x, std::int64_t w_rows, const std::string& w_shape,
                 const char* op) {
  if (w_rows != x.pixels->cols()) {
    throw ShapeError(std::string(op) + ": " + shape_str({x.size(), x.pixels->cols()}) + " x " +
                     w_shape + ": inner dimensions differ");
  }
}

void check_other(const Tensor& other, const Shape& shape, const char* op, const char* name) {
  if (other.dtype() != DType::f32) {
    throw ValueError(std::string(op) + ": sparse products are float32; " + name + " is " +
                     dtype_name(other.dtype()));
  }
  if (other.shape() != shape) {
    throw ShapeError(std::string(op) + ": " + name + " is " + shape_str(other.shape()) +
                     ", expected " + shape_str(shape));
  }
}

// x, a matrix W (D, M) float32 and `other` of shape other_shape, float32.
void check(const SparseBatch& x, const Tensor& W, const Tensor& other, const Shape& other_shape,
           const char* op, const char* other_name) {
  check_batch(x, op);
  check_inner(x, W.rank() == 2 ? W.size(0) : -1, shape_str(W.shape()), op);
  if (W.dtype() != DType::f32) {
    throw ValueError(std::string(op) + ": sparse products are float32; W is " +
                     dtype_name(W.dtype()));
  }
  check_other(other, other_shape, op, other_name);
}

// The inner kernels:
//   gather, for one row of the batch (its entries e):  y[0:m] += sum_e v_e * w[c_e, 0:m]
//   column, for one column c (its entries e, rows r_e): dw[c, 0:m] += sum_e v_e * d[r_e, 0:m]
// The fast gather works on PackedRows, so that every load of a row of w is whole, aligned
// and within one cache line; the fast column kernel on dY with its rows padded to whole
// vectors. The plain loops (gather_plain, scatter_plain) are the reference.

// pixel -> pixel * scale for all 256 pixel values: one load instead of a conversion.
struct ScaledPixels {
  alignas(64) float of[256];
  explicit ScaledPixels(float scale) {
    for (int p = 0; p < 256; ++p) of[p] = static_cast<float>(p) * scale;
  }
};

// One row's entries.
struct Entries {
  const std::uint16_t* index;
  const std::uint8_t* value;
  std::int64_t begin, end;
};

Entries entries_of(const SparsePixels& px, std::int64_t r) {
  return {px.index(), px.value(), px.row_begin(r), px.row_begin(r + 1)};
}

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

// Full-width vectors of 4, 8 or 16 floats for the tail columns (rows of the tail array
// are that wide; its padding lanes are zero, so they add nothing to an accumulator).
template <int kWidth>
struct Lanes;
template <>
struct Lanes<4> {
  using V = __m128;
  static V zero() { return _mm_setzero_ps(); }
  static V load(const float* p) { return _mm_load_ps(p); }
  static V fmadd(float v, V a, V acc) { return _mm_fmadd_ps(_mm_set1_ps(v), a, acc); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static V load_part(__mmask16 k, const float* p) {
    return _mm_maskz_loadu_ps(static_cast<__mmask8>(k), p);
  }
  static void store_part(float* p, __mmask16 k, V x) {
    _mm_mask_storeu_ps(p, static_cast<__mmask8>(k), x);
  }
};
template <>
struct Lanes<8> {
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_load_ps(p); }
  static V fmadd(float v, V a, V acc) { return _mm256_fmadd_ps(_mm256_set1_ps(v), a, acc); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V load_part(__mmask16 k, const float* p) {
    return _mm256_maskz_loadu_ps(static_cast<__mmask8>(k), p);
  }
  static void store_part(float* p, __mmask16 k, V x) {
    _mm256_mask_storeu_ps(p, static_cast<__mmask8>(k), x);
  }
};
template <>
struct Lanes<16> {
  using V = __m512;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_load_ps(p); }
  static V fmadd(float v, V a, V acc) { return _mm512_fmadd_ps(_mm512_set1_ps(v), a, acc); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V load_part(__mmask16 k, const float* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void store_part(float* p, __mmask16 k, V x) { _mm512_mask_storeu_ps(p, k, x); }
};
// No tail: a stand-in that is never used.
template <>
struct Lanes<0> : Lanes<4> {};

// Where one call of the gather kernel works: kChunks whole chunks of 16 main columns from
// column j0 on (all in registers across the row's entries) and, if kTail, the tail
// columns too.
struct Tile {
  const float* main;  // the packed matrix's main array, at column j0 of row 0
  std::int64_t stride;
  const float* tail;  // its tail array
  std::int64_t tail_stride;
  __mmask16 tail_mask;  // the tail's real columns
};

// y[j0 : j0 + 16 kChunks] and, if kTail, y_tail[0 : tail columns] +=
// sum_e v_e * w[c_e, same columns].
template <int kChunks, int kTail>
void gather_tile(const Entries& en, const ScaledPixels& scaled, const Tile& w, float* y,
                 float* y_tail) {
  using T = Lanes<kTail>;
  // Two sets of accumulators, for even and odd entries, so that an entry's FMAs need not
  // wait for the previous entry's (FMA latency, not throughput, would set the pace).
  __m512 even[kChunks > 0 ? kChunks : 1], odd[kChunks > 0 ? kChunks : 1];
  typename T::V even_tail = T::zero(), odd_tail = T::zero();
  for (int k = 0; k < kChunks; ++k) {
    even[k] = _mm512_loadu_ps(y + 16 * k);
    odd[k] = _mm512_setzero_ps();
  }
  if constexpr (kTail > 0) even_tail = T::load_part(w.tail_mask, y_tail);
  auto add_entry = [&](std::int64_t e, __m512* acc, typename T::V& acc_tail) {
    const float s = scaled.of[en.value[e]];
    const __m512 v = _mm512_set1_ps(s);
    const auto c = static_cast<std::int64_t>(en.index[e]);
    const float* wc = w.main + c * w.stride;
    for (int k = 0; k < kChunks; ++k)
      acc[k] = _mm512_fmadd_ps(v, _mm512_load_ps(wc + 16 * k), acc[k]);
    if constexpr (kTail > 0) acc_tail = T::fmadd(s, T::load(w.tail + c * w.tail_stride), acc_tail);
  };
  std::int64_t e = en.begin;
  for (; e + 1 < en.end; e += 2) {
    add_entry(e, even, even_tail);
    add_entry(e + 1, odd, odd_tail);
  }
  if (e < en.end) add_entry(e, even, even_tail);
  for (int k = 0; k < kChunks; ++k) _mm512_storeu_ps(y + 16 * k, _mm512_add_ps(even[k], odd[k]));
  if constexpr (kTail > 0) T::store_part(y_tail, w.tail_mask, T::add(even_tail, odd_tail));
}

// Calls f(chunks, tail) with both as compile-time constants (std::integral_constant), for
// chunks in 0-4 and a tail width of 0, 4, 8 or 16.
template <class F>
void with_tile(std::int64_t chunks, std::int64_t tail, F&& f) {
  auto with_tail = [&](auto c) {
    switch (tail) {
      case 0:
        f(c, std::integral_constant<int, 0>{});
        break;
      case 4:
        f(c, std::integral_constant<int, 4>{});
        break;
      case 8:
        f(c, std::integral_constant<int, 8>{});
        break;
      default:
        f(c, std::integral_constant<int, 16>{});
        break;
    }
  };
  switch (chunks) {
    case 0:
      with_tail(std::integral_constant<int, 0>{});
      break;
    case 1:
      with_tail(std::integral_constant<int, 1>{});
      break;
    case 2:
      with_tail(std::integral_constant<int, 2>{});
      break;
    case 3:
      with_tail(std::integral_constant<int, 3>{});
      break;
    default:
      with_tail(std::integral_constant<int, 4>{});
      break;
  }
}

// Runs kernel(tile, j0, chunks, tail) over the packed matrix's columns in tiles of up to
// 64 main columns; the tail columns go with the last tile.
template <class F>
void for_each_tile(const PackedRows& w, F&& kernel) {
  const std::int64_t main = w.main_cols();
  const std::int64_t tail_width = w.tail_cols() > 0 ? w.tail_stride() : 0;
  const auto mask = static_cast<__mmask16>((1u << w.tail_cols()) - 1u);
  std::int64_t j0 = 0;
  do {
    const std::int64_t chunks = std::min<std::int64_t>(4, (main - j0) / 16);
    const bool last = j0 + 16 * chunks >= main;
    Tile tile{w.main() == nullptr ? nullptr : w.main() + j0, main, w.tail(), w.tail_stride(), mask};
    kernel(tile, j0, chunks, last ? tail_width : 0);
    j0 += 16 * chunks;
  } while (j0 < main);
}

void gather_avx512(const Entries& en, const ScaledPixels& scaled, const PackedRows& w, float* y) {
  for_each_tile(w, [&](const Tile& tile, std::int64_t j0, std::int64_t chunks, std::int64_t tail) {
    with_tile(chunks, tail, [&](auto c, auto t) {
      gather_tile<c(), t()>(en, scaled, tile, y + j0, y + w.main_cols());
    });
  });
}

#endif

// One row of the batch: y[0:m] += its entries times the packed rows of w.
void gather(const Entries& en, const ScaledPixels& scaled, const PackedRows& w, float* y) {
#if defined(__AVX512F__)
  gather_avx512(en, scaled, w, y);
#else
  const std::int64_t main = w.main_cols(), tail = w.tail_cols();
  for (std::int64_t e = en.begin; e < en.end; ++e) {
    const float v = scaled.of[en.value[e]];
    const auto c = static_cast<std::int64_t>(en.index[e]);
    for (std::int64_t j = 0; j < main; ++j) y[j] += v * w.main()[c * main + j];
    for (std::int64_t j = 0; j < tail; ++j) y[main + j] += v * w.tail()[c * w.tail_stride() + j];
  }
#endif
}

#if defined(__AVX512F__)

// dw[0 : 16 kChunks] += sum_e v_e * d[r_e, same columns] over entries [e0, e1) of a
// column, d padded (rows of `stride` floats, 64-byte aligned); only the first `last`
// columns of the last chunk are dw's.
template <int kChunks>
void column_tile(const std::uint32_t* entries, std::int64_t e0, std::int64_t e1,
                 const ScaledPixels& scaled, const float* d, std::int64_t stride, float* dw,
                 __mmask16 last) {
  // Two sets of accumulators, for even and odd entries (as in gather_tile).
  __m512 even[kChunks], odd[kChunks];
  for (int k = 0; k < kChunks; ++k) even[k] = odd[k] = _mm512_setzero_ps();
  auto add_entry = [&](std::uint32_t entry, __m512 * acc) __attribute__((always_inline)) {
    const __m512 v = _mm512_set1_ps(scaled.of[entry & 0xff]);
    const float* dr = d + static_cast<std::int64_t>(entry >> 8) * stride;
    for (int k = 0; k < kChunks; ++k)
      acc[k] = _mm512_fmadd_ps(v, _mm512_load_ps(dr + 16 * k), acc[k]);
  };
  std::int64_t e = e0;
  for (; e + 1 < e1; e += 2) {
    add_entry(entries[e], even);
    add_entry(entries[e + 1], odd);
  }
  if (e < e1) add_entry(entries[e], even);
  for (int k = 0; k < kChunks; ++k) {
    const __mmask16 mask = k == kChunks - 1 ? last : static_cast<__mmask16>(0xffff);
    const __m512 sum = _mm512_add_ps(even[k], odd[k]);
    _mm512_mask_storeu_ps(dw + 16 * k, mask,
                          _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dw + 16 * k), sum));
  }
}

#endif

// Rows [c0, c1) of dw (D, m): dw[c] += sum over column c's entries of v_e * d[r_e], d
// padded to rows of `stride` floats.
void columns(const SparseColumns& x, std::int64_t c0, std::int64_t c1, const ScaledPixels& scaled,
             const float* d, std::int64_t stride, std::int64_t m, float* dw) {
  const std::uint32_t* entries = x.entries();
#if defined(__AVX512F__)
  // tiles of up to 64 columns of dw, each summed in registers
  for (std::int64_t j0 = 0; j0 < m; j0 += 64) {
    const std::int64_t width = std::min<std::int64_t>(64, m - j0);
    const std::int64_t chunks = (width + 15) / 16;
    const auto last = static_cast<__mmask16>((1u << (width - 16 * (chunks - 1))) - 1u);
    auto run = [&](auto kChunks) {
      for (std::int64_t c = c0; c < c1; ++c) {
        if (x.begin(c) == x.begin(c + 1)) continue;
        column_tile<kChunks()>(entries, x.begin(c), x.begin(c + 1), scaled, d + j0, stride,
                               dw + c * m + j0, last);
      }
    };
    switch (chunks) {
      case 1:
        run(std::integral_constant<int, 1>{});
        break;
      case 2:
        run(std::integral_constant<int, 2>{});
        break;
      case 3:
        run(std::integral_constant<int, 3>{});
        break;
      default:
        run(std::integral_constant<int, 4>{});
        break;
    }
  }
#else
  for (std::int64_t c = c0; c < c1; ++c) {
    for (std::int64_t e = x.begin(c); e < x.begin(c + 1); ++e) {
      const float v = scaled.of[entries[e] & 0xff];
      const float* dr = d + static_cast<std::int64_t>(entries[e] >> 8) * stride;
      for (std::int64_t j = 0; j < m; ++j) dw[c * m + j] += v * dr[j];
    }
  }
#endif
}

// Rows of a batch are scattered over the data set: start loading a row's entries this
// many rows before it is needed.
constexpr std::int64_t kPrefetchAhead = 1;

// Starts loading row r's entries into the cache while the current row is worked on.
void prefetch_row(const SparsePixels& px, std::int64_t r) {
  const std::int64_t b = px.row_begin(r), n = px.row_begin(r + 1) - b;
  for (std::int64_t e = 0; e < n; e += 32) __builtin_prefetch(px.index() + b + e);
  for (std::int64_t e = 0; e < n; e += 64) __builtin_prefetch(px.value() + b + e);
}

// Below this many rows a part, waking another thread costs more than it saves (measured:
// a 100-row training batch is slower on two threads even on an idle machine, 1.55 s
// against 1.43 s for the recipe; a 2000-row evaluation block is faster, 0.29 s against 0.49).
constexpr std::int64_t kMinRowsPerPart = 256;

Workers* worth_splitting(Workers* workers, std::int64_t rows) {
  return workers != nullptr && rows >= kMinRowsPerPart * workers->size() ? workers : nullptr;
}

// Calls f(i, row) for the batch's rows [i0, i1), prefetching ahead.
template <class F>
void for_rows(const SparseBatch& x, std::int64_t i0, std::int64_t i1, F&& f) {
  for (std::int64_t i = i0; i < i1; ++i) {
    if (i + kPrefetchAhead < i1) {
      prefetch_row(*x.pixels, x.rows[static_cast<std::size_t>(i + kPrefetchAhead)]);
    }
    f(i, x.rows[static_cast<std::size_t>(i)]);
  }
}

}  // namespace

// ---- PackedRows -----------------------------------------------------------------------

void PackedRows::reshape(std::int64_t rows, std::int64_t cols) {
  if (rows == rows_ && cols == cols_) return;
  rows_ = rows;
  cols_ = cols;
  const std::int64_t tail = cols % 16;
  tail_stride_ = tail == 0 ? 0 : tail <= 4 ? 4 : tail <= 8 ? 8 : 16;
  main_ = main_cols() > 0 ? Tensor({rows, main_cols()}, DType::f32) : Tensor();
  tail_ = tail > 0 ? Tensor({rows, tail_stride_}, DType::f32) : Tensor();  // zero padding
}

void PackedRows::pack(const Tensor& W) {
  if (W.rank() != 2 || W.dtype() != DType::f32) {
    throw ValueError("PackedRows: W is " + shape_str(W.shape()) + " " + dtype_name(W.dtype()) +
                     ", expected a float32 matrix");
  }
  reshape(W.size(0), W.size(1));
  const float* w = W.data<float>();
  const std::int64_t main = main_cols(), tail = tail_cols();
  for (std::int64_t r = 0; r < rows_; ++r) {
    const float* row = w + r * cols_;
    std::copy(row, row + main, this->main() + r * main);
    std::copy(row + main, row + main + tail, this->tail() + r * tail_stride_);
  }
}

// ---- SparseColumns ---------------------------------------------------------------------

void SparseColumns::assign(const SparseBatch& x) {
  check_batch(x, "SparseColumns");
  const SparsePixels& px = *x.pixels;
  if (x.size() >= (std::int64_t{1} << 24)) {
    throw ValueError("SparseColumns: a batch of " + std::to_string(x.size()) +
                     " rows; at most 16777215");
  }
  const auto cols = static_cast<std::size_t>(px.cols());
  const std::uint16_t* index = px.index();
  const std::uint8_t* value = px.value();
  rows_ = x.size();
  // count each column's entries (in begin_[c + 1]), then sum them into starts
  begin_.assign(cols + 1, 0);
  std::int64_t* count = begin_.data() + 1;
  for (std::int64_t r : x.rows) {
    const std::int64_t e0 = px.row_begin(r), e1 = px.row_begin(r + 1);
    for (std::int64_t e = e0; e < e1; ++e) ++count[index[e]];
  }
  for (std::size_t c = 0; c < cols; ++c) begin_[c + 1] += begin_[c];
  next_.assign(begin_.begin(), begin_.end() - 1);
  entries_.resize(static_cast<std::size_t>(begin_.back()));
  std::int64_t* next = next_.data();
  std::uint32_t* entries = entries_.data();
  // place the entries, rows in batch order within each column
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    const std::int64_t e0 = px.row_begin(r), e1 = px.row_begin(r + 1);
    const auto row = static_cast<std::uint32_t>(i) << 8;
    for (std::int64_t e = e0; e < e1; ++e) entries[next[index[e]]++] = row | value[e];
  }
}

// ---- the products ---------------------------------------------------------------------

void sparse_matmul(const SparseBatch& x, const Tensor& W, Tensor& y, Workers* workers) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  PackedRows packed;
  packed.pack(W);
  sparse_matmul(x, packed, y, workers);
}

void sparse_matmul(const SparseBatch& x, const PackedRows& W, Tensor& y, Workers* workers) {
  check_batch(x, "sparse_matmul");
  check_inner(x, W.rows(), shape_str({W.rows(), W.cols()}), "sparse_matmul");
  const std::int64_t m = W.cols();
  check_other(y, {x.size(), m}, "sparse_matmul", "output");
  float* out = y.data<float>();
  const ScaledPixels scaled(x.pixels->scale());
  auto rows = [&](int part, int parts) {
    auto [i0, i1] = part_range(x.size(), part, parts);
    for_rows(x, i0, i1, [&](std::int64_t i, std::int64_t r) {
      gather(entries_of(*x.pixels, r), scaled, W, out + i * m);
    });
  };
  if (Workers* split = worth_splitting(workers, x.size())) {
    split->run(rows);
  } else {
    rows(0, 1);
  }
}

void sparse_matmul_tn(const SparseBatch& x, const Tensor& dY, Tensor& dW,
                      SparseWorkspace& workspace, Workers* workers) {
  const std::int64_t m = dW.rank() == 2 ? dW.size(1) : 0;
  check(x, dW, dY, {x.size(), m}, "sparse_matmul_tn", "dY");
  const std::int64_t n = x.size();
  if (n == 0 || m == 0) return;
  const SparseColumns& cols = x.columns != nullptr ? *x.columns : workspace.columns;
  if (x.columns == nullptr) {
    workspace.columns.assign(x);
  } else {
    std::int64_t nonzeros = 0;
    for (std::int64_t r : x.rows) nonzeros += x.pixels->row_begin(r + 1) - x.pixels->row_begin(r);
    if (cols.rows() != n || cols.cols() != x.pixels->cols() || cols.nonzeros() != nonzeros) {
      throw ValueError("sparse_matmul_tn: the batch's columns are of another batch (" +
                       std::to_string(cols.rows()) + " rows, " + std::to_string(cols.cols()) +
                       " columns, " + std::to_string(cols.nonzeros()) +
                       " non-zeros; the batch has " + std::to_string(n) + ", " +
                       std::to_string(x.pixels->cols()) + ", " + std::to_string(nonzeros) + ")");
    }
  }
  // dY with rows of whole vectors, 64-byte aligned (the padding stays zero)
  const std::int64_t stride = (m + 15) / 16 * 16;
  Tensor& padded = workspace.padded_dY;
  if (padded.shape() != Shape{n, stride}) padded = Tensor::zeros({n, stride}, DType::f32);
  const float* dy = dY.data<float>();
  float* pd = padded.data<float>();
  for (std::int64_t i = 0; i < n; ++i) std::copy_n(dy + i * m, m, pd + i * stride);
  const ScaledPixels scaled(x.pixels->scale());
  float* dw = dW.data<float>();
  // Each part takes a band of dW's rows holding about an equal share of the non-zeros.
  auto band = [&](int part, int parts) {
    auto first_with = [&](std::int64_t share) {
      std::int64_t c = 0;
      while (c < cols.cols() && cols.begin(c + 1) <= share) ++c;
      return c;
    };
    const std::int64_t c0 = part == 0 ? 0 : first_with(cols.nonzeros() * part / parts);
    const std::int64_t c1 =
        part == parts - 1 ? cols.cols() : first_with(cols.nonzeros() * (part + 1) / parts);
    columns(cols, c0, c1, scaled, pd, stride, m, dw);
  };
  if (Workers* split = worth_splitting(workers, n)) {
    split->run(band);
  } else {
    band(0, 1);
  }
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
