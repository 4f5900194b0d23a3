// The avx512 table: simd_body.h for AVX-512 (built with -mavx512f -mavx512bw -mavx512vl
// -mavx512dq -mavx512vbmi2 -mfma -mbmi -mbmi2 -mpopcnt; chosen only on CPUs that have them
// all). 16 floats are one zmm register; a tile keeps 4 chunks of 16 (8 accumulators and the
// tail's, of 32 registers); the row compression compresses in registers (VBMI2).
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace nabla::kernels {

namespace {

#include "kernels/x86_vectors.h"

inline __mmask16 first_mask16(int n) { return static_cast<__mmask16>((1u << n) - 1u); }

template <>
struct Vec<16> {
  using T = __m512;
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float v) { return _mm512_set1_ps(v); }
  static T load(const float* p) { return _mm512_load_ps(p); }
  static T loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, T x) { _mm512_storeu_ps(p, x); }
  static T load_first(const float* p, int n) { return _mm512_maskz_loadu_ps(first_mask16(n), p); }
  static void store_first(float* p, int n, T x) { _mm512_mask_storeu_ps(p, first_mask16(n), x); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T fnmadd(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }
  // (the masked forms, all lanes on: GCC 12 warns about the unmasked ones' undefined source)
  static T max(T a, T b) { return _mm512_mask_max_ps(a, 0xFFFF, a, b); }
  static T round_nearest(T x) {
    return _mm512_mask_roundscale_ps(x, 0xFFFF, x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // vscalefps: also underflows correctly
  static T scale2(T x, T k) { return _mm512_mask_scalef_ps(x, 0xFFFF, x, k); }
};

struct Bytes {
  static std::uint64_t nonzero64(const std::uint8_t* p) {
    const __m512i v = _mm512_loadu_si512(p);
    return _mm512_test_epi8_mask(v, v);
  }
  // The mask of non-zeros picks values and columns out of registers (compressing in
  // registers, then a masked store: no write past the row's entries).
  static std::int64_t compress64(const std::uint8_t* p, std::uint64_t nz, std::int64_t c,
                                 std::uint16_t* index, std::uint8_t* value) {
    auto first = [](int k) { return k >= 64 ? ~0ULL : (1ULL << k) - 1; };
    const __m512i lanes =
        _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13,
                         12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const int k = __builtin_popcountll(nz);
    _mm512_mask_storeu_epi8(value, first(k), _mm512_maskz_compress_epi8(nz, _mm512_loadu_si512(p)));
    const auto low = static_cast<__mmask32>(nz), high = static_cast<__mmask32>(nz >> 32);
    const int k_low = __builtin_popcount(low);
    const __m512i base = _mm512_add_epi16(lanes, _mm512_set1_epi16(static_cast<short>(c)));
    _mm512_mask_storeu_epi16(index, static_cast<__mmask32>(first(k_low)),
                             _mm512_maskz_compress_epi16(low, base));
    _mm512_mask_storeu_epi16(
        index + k_low, static_cast<__mmask32>(first(k - k_low)),
        _mm512_maskz_compress_epi16(high, _mm512_add_epi16(base, _mm512_set1_epi16(32))));
    return k;
  }
};

constexpr int kMaxChunks = 4;

#include "kernels/loops.h"

// copy_rows_plain in 16-float chunks, the last one masked: a short row (a convolution
// field's 24 pixels) in two moves, where the plain loop becomes a memcpy call per row.
void copy_rows(const float* src, std::int64_t src_stride, std::int64_t rows, std::int64_t cols,
               float* dst, std::int64_t dst_stride) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * src_stride;
    float* d = dst + r * dst_stride;
    std::int64_t t = 0;
    for (; t + 16 <= cols; t += 16) _mm512_storeu_ps(d + t, _mm512_loadu_ps(s + t));
    if (t < cols) {
      const __mmask16 rest = first_mask16(static_cast<int>(cols - t));
      _mm512_mask_storeu_ps(d + t, rest, _mm512_maskz_loadu_ps(rest, s + t));
    }
  }
}

// max_pool2x2_plain over a row pair's outputs 16 at a time: each row's 32 inputs in two
// masked loads, split into even and odd columns (vpermt2ps), then the comparisons and
// positions of the plain loop on all lanes at once.
void max_pool2x2(const float* x, std::int64_t h, std::int64_t w, float* out, std::int32_t* arg) {
  const std::int64_t oh = h / 2, ow = w / 2;
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i one = _mm512_set1_epi32(1), width = _mm512_set1_epi32(static_cast<int>(w));
  for (std::int64_t i = 0; i < oh; ++i) {
    const float* r0 = x + 2 * i * w;
    const float* r1 = r0 + w;
    for (std::int64_t j = 0; j < ow; j += 16) {
      const int n = ow - j < 16 ? static_cast<int>(ow - j) : 16;
      const __mmask16 lo = first_mask16(n < 8 ? 2 * n : 16);
      const __mmask16 hi = first_mask16(n > 8 ? 2 * n - 16 : 0);
      auto split = [&](const float* r, __m512& left, __m512& right) {
        const __m512 a = _mm512_maskz_loadu_ps(lo, r + 2 * j);
        const __m512 b = _mm512_maskz_loadu_ps(hi, r + 2 * j + 16);
        left = _mm512_permutex2var_ps(a, even, b);
        right = _mm512_permutex2var_ps(a, odd, b);
      };
      __m512 a00, a01, a10, a11;
      split(r0, a00, a01);
      split(r1, a10, a11);
      const __mmask16 right0 = _mm512_cmp_ps_mask(a01, a00, _CMP_GT_OQ);
      const __mmask16 right1 = _mm512_cmp_ps_mask(a11, a10, _CMP_GT_OQ);
      const __m512 m0 = _mm512_mask_blend_ps(right0, a00, a01);
      const __m512 m1 = _mm512_mask_blend_ps(right1, a10, a11);
      const __mmask16 lower = _mm512_cmp_ps_mask(m1, m0, _CMP_GT_OQ);
      _mm512_mask_storeu_ps(out + i * ow + j, first_mask16(n), _mm512_mask_blend_ps(lower, m0, m1));
      // top + 2j, + 1 for a right maximum, + w for a lower one
      __m512i at = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(2 * i * w + 2 * j)), even);
      const __mmask16 right = static_cast<__mmask16>((right0 & ~lower) | (right1 & lower));
      at = _mm512_mask_add_epi32(at, right, at, one);
      at = _mm512_mask_add_epi32(at, lower, at, width);
      _mm512_mask_storeu_epi32(arg + i * ow + j, first_mask16(n), at);
    }
  }
}

// max_pool2x2_backward_plain writing each element once: a row pair's 32 columns from 16
// outputs, each gradient and position spread over its two columns (vpermps; the masked
// form, all lanes on, as for max above) and kept where the position is the lane's own.
// Odd sizes (an unpooled last row or column) by the plain loop.
void max_pool2x2_backward(const float* dout, const std::int32_t* arg, std::int64_t h,
                          std::int64_t w, float* dx) {
  if (h % 2 != 0 || w % 2 != 0) {
    max_pool2x2_backward_plain(dout, arg, h, w, dx);
    return;
  }
  const std::int64_t oh = h / 2, ow = w / 2;
  const __m512i pairs_lo = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i pairs_hi = _mm512_add_epi32(pairs_lo, _mm512_set1_epi32(8));
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i sixteen = _mm512_set1_epi32(16), width = _mm512_set1_epi32(static_cast<int>(w));
  for (std::int64_t i = 0; i < oh; ++i) {
    float* d0 = dx + 2 * i * w;
    float* d1 = d0 + w;
    for (std::int64_t j = 0; j < ow; j += 16) {
      const int n = ow - j < 16 ? static_cast<int>(ow - j) : 16;
      const __mmask16 lo = first_mask16(n < 8 ? 2 * n : 16);
      const __mmask16 hi = first_mask16(n > 8 ? 2 * n - 16 : 0);
      const __m512 g = _mm512_maskz_loadu_ps(first_mask16(n), dout + i * ow + j);
      const __m512i a = _mm512_maskz_loadu_epi32(first_mask16(n), arg + i * ow + j);
      const __m512 g_lo = _mm512_mask_permutexvar_ps(g, 0xFFFF, pairs_lo, g);
      const __m512 g_hi = _mm512_mask_permutexvar_ps(g, 0xFFFF, pairs_hi, g);
      const __m512i a_lo = _mm512_mask_permutexvar_epi32(a, 0xFFFF, pairs_lo, a);
      const __m512i a_hi = _mm512_mask_permutexvar_epi32(a, 0xFFFF, pairs_hi, a);
      const __m512i p0_lo =
          _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(2 * i * w + 2 * j)), lanes);
      const __m512i p0_hi = _mm512_add_epi32(p0_lo, sixteen);
      const __m512i p1_lo = _mm512_add_epi32(p0_lo, width);
      const __m512i p1_hi = _mm512_add_epi32(p0_hi, width);
      _mm512_mask_storeu_ps(d0 + 2 * j, lo,
                            _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a_lo, p0_lo), g_lo));
      _mm512_mask_storeu_ps(d0 + 2 * j + 16, hi,
                            _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a_hi, p0_hi), g_hi));
      _mm512_mask_storeu_ps(d1 + 2 * j, lo,
                            _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a_lo, p1_lo), g_lo));
      _mm512_mask_storeu_ps(d1 + 2 * j + 16, hi,
                            _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a_hi, p1_hi), g_hi));
    }
  }
}

#include "kernels/simd_body.h"

}  // namespace

const Table& avx512_table() {
  static const Table table = simd_table(Isa::avx512);
  return table;
}

}  // namespace nabla::kernels
