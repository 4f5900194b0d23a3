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

#include "kernels/simd_body.h"

}  // namespace

const Table& avx512_table() {
  static const Table table = simd_table(Isa::avx512);
  return table;
}

}  // namespace nabla::kernels
