// The avx2 table: simd_body.h for AVX2 + FMA (built with -mavx2 -mfma -mbmi -mbmi2
// -mpopcnt; chosen only on CPUs that have them all). 16 floats are two ymm registers; a
// tile keeps 3 chunks of 16 (12 accumulators and the tail's, of 16 registers).
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace nabla::kernels {

namespace {

#include "kernels/loops.h"
#include "kernels/x86_vectors.h"

template <>
struct Vec<16> {
  struct T {
    __m256 lo, hi;
  };
  using H = Vec<8>;
  static T zero() { return {H::zero(), H::zero()}; }
  static T set1(float v) { return {H::set1(v), H::set1(v)}; }
  static T load(const float* p) { return {H::load(p), H::load(p + 8)}; }
  static T loadu(const float* p) { return {H::loadu(p), H::loadu(p + 8)}; }
  static void storeu(float* p, T x) {
    H::storeu(p, x.lo);
    H::storeu(p + 8, x.hi);
  }
  static T load_first(const float* p, int n) {
    if (n >= 8) return {H::loadu(p), n == 8 ? H::zero() : H::load_first(p + 8, n - 8)};
    return {H::load_first(p, n), H::zero()};
  }
  static void store_first(float* p, int n, T x) {
    if (n >= 8) {
      H::storeu(p, x.lo);
      if (n > 8) H::store_first(p + 8, n - 8, x.hi);
    } else {
      H::store_first(p, n, x.lo);
    }
  }
  static T add(T a, T b) { return {H::add(a.lo, b.lo), H::add(a.hi, b.hi)}; }
  static T sub(T a, T b) { return {H::sub(a.lo, b.lo), H::sub(a.hi, b.hi)}; }
  static T mul(T a, T b) { return {H::mul(a.lo, b.lo), H::mul(a.hi, b.hi)}; }
  static T max(T a, T b) { return {H::max(a.lo, b.lo), H::max(a.hi, b.hi)}; }
  static T fmadd(T a, T b, T c) { return {H::fmadd(a.lo, b.lo, c.lo), H::fmadd(a.hi, b.hi, c.hi)}; }
  static T fnmadd(T a, T b, T c) {
    return {H::fnmadd(a.lo, b.lo, c.lo), H::fnmadd(a.hi, b.hi, c.hi)};
  }
  static T round_nearest(T x) { return {H::round_nearest(x.lo), H::round_nearest(x.hi)}; }
  static T scale2(T x, T k) { return {H::scale2(x.lo, k.lo), H::scale2(x.hi, k.hi)}; }
};

struct Bytes {
  static std::uint64_t nonzero64(const std::uint8_t* p) {
    const __m256i zero = _mm256_setzero_si256();
    const auto lo = static_cast<std::uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), zero)));
    const auto hi = static_cast<std::uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), zero)));
    return ~(std::uint64_t{hi} << 32 | lo);
  }
  // No compress instruction before AVX-512: one set bit at a time.
  static std::int64_t compress64(const std::uint8_t* p, std::uint64_t nz, std::int64_t c,
                                 std::uint16_t* index, std::uint8_t* value) {
    return compress64_plain(p, nz, c, index, value);
  }
};

constexpr int kMaxChunks = 3;

#include "kernels/plain_pool_copy.h"

#include "kernels/simd_body.h"

}  // namespace

const Table& avx2_table() {
  static const Table table = simd_table(Isa::avx2);
  return table;
}

}  // namespace nabla::kernels
