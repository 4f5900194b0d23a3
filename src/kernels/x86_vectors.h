// Vectors of 4 and 8 floats for the x86 SIMD translation units (AVX2 + FMA; avx512.cc
// uses them too, for the tails). Included inside their anonymous namespaces, before
// simd_body.h: see there for what each member does.
//
// (No include guard: each translation unit includes it once, in its own namespace.)

// mask_from[8 - n .. 16 - n): n lanes on, then off (for maskload / maskstore).
alignas(64) constexpr std::int32_t kMaskFrom[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                    0,  0,  0,  0,  0,  0,  0,  0};

inline __m256i first_lanes8(int n) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskFrom + 8 - n));
}
inline __m128i first_lanes4(int n) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskFrom + 8 - n));
}

template <int N>
struct Vec;

template <>
struct Vec<4> {
  using T = __m128;
  static T zero() { return _mm_setzero_ps(); }
  static T set1(float v) { return _mm_set1_ps(v); }
  static T load(const float* p) { return _mm_load_ps(p); }
  static T loadu(const float* p) { return _mm_loadu_ps(p); }
  static void storeu(float* p, T x) { _mm_storeu_ps(p, x); }
  static T load_first(const float* p, int n) { return _mm_maskload_ps(p, first_lanes4(n)); }
  static void store_first(float* p, int n, T x) { _mm_maskstore_ps(p, first_lanes4(n), x); }
  static T add(T a, T b) { return _mm_add_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm_fmadd_ps(a, b, c); }
};

template <>
struct Vec<8> {
  using T = __m256;
  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float v) { return _mm256_set1_ps(v); }
  static T load(const float* p) { return _mm256_load_ps(p); }
  static T loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, T x) { _mm256_storeu_ps(p, x); }
  static T load_first(const float* p, int n) { return _mm256_maskload_ps(p, first_lanes8(n)); }
  static void store_first(float* p, int n, T x) { _mm256_maskstore_ps(p, first_lanes8(n), x); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T fnmadd(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  static T round_nearest(T x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // x * 2^k in two steps of 2^(k/2) (each a normal float for k >= -150), so that results
  // below 2^-126 come out as the subnormals they are.
  static T scale2(T x, T k) {
    const T half = _mm256_round_ps(_mm256_mul_ps(k, _mm256_set1_ps(0.5f)),
                                   _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    return _mm256_mul_ps(_mm256_mul_ps(x, pow2(half)), pow2(_mm256_sub_ps(k, half)));
  }
  // 2^k for integral k in [-126, 127], from its exponent bits.
  static T pow2(T k) {
    const __m256i bits =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_castsi256_ps(bits);
  }
};
