// Vectors of 4, 8 and 16 floats for the NEON translation unit (neon.cc): Vec<N> is N / 4
// registers of 4 floats (float32x4_t; AArch64 has 32 of them), each operation applied to
// every register. Also Bytes, the row compression's two steps. Included inside neon.cc's
// anonymous namespace, before simd_body.h: see there for what each member does.
//
// NEON has no masked loads and stores: load_first and store_first move the last register's
// lanes one at a time, so that nothing past p + n is read or written.
//
// (No include guard: included once, in neon.cc's namespace.)

// Lanes [0, n) of p (n may be out of [0, 4]: none below, all four above), the rest 0.
inline float32x4_t load_lanes(const float* p, int n) {
  if (n >= 4) return vld1q_f32(p);
  float32x4_t v = vdupq_n_f32(0.0f);
  if (n > 0) v = vld1q_lane_f32(p, v, 0);
  if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
  if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
  return v;
}

// Writes lanes [0, n) of v to p, nothing else.
inline void store_lanes(float* p, int n, float32x4_t v) {
  if (n >= 4) {
    vst1q_f32(p, v);
    return;
  }
  if (n > 0) vst1q_lane_f32(p, v, 0);
  if (n > 1) vst1q_lane_f32(p + 1, v, 1);
  if (n > 2) vst1q_lane_f32(p + 2, v, 2);
}

// 2^k for integral k in [-126, 127], from its exponent bits.
inline float32x4_t pow2(float32x4_t k) {
  const int32x4_t biased = vaddq_s32(vcvtq_s32_f32(k), vdupq_n_s32(127));
  return vreinterpretq_f32_s32(vshlq_n_s32(biased, 23));
}

template <int N>
struct Vec {
  static constexpr int kRegs = N / 4;
  struct T {
    float32x4_t q[kRegs];
  };

  static T zero() { return set1(0.0f); }
  static T set1(float v) {
    T r;
    for (int i = 0; i < kRegs; ++i) r.q[i] = vdupq_n_f32(v);
    return r;
  }
  // (NEON's loads take any alignment: load is loadu)
  static T load(const float* p) { return loadu(p); }
  static T loadu(const float* p) {
    T r;
    for (int i = 0; i < kRegs; ++i) r.q[i] = vld1q_f32(p + 4 * i);
    return r;
  }
  static void storeu(float* p, T x) {
    for (int i = 0; i < kRegs; ++i) vst1q_f32(p + 4 * i, x.q[i]);
  }
  static T load_first(const float* p, int n) {
    T r;
    for (int i = 0; i < kRegs; ++i) r.q[i] = load_lanes(p + 4 * i, n - 4 * i);
    return r;
  }
  static void store_first(float* p, int n, T x) {
    for (int i = 0; i < kRegs; ++i) store_lanes(p + 4 * i, n - 4 * i, x.q[i]);
  }
  static T add(T a, T b) {
    for (int i = 0; i < kRegs; ++i) a.q[i] = vaddq_f32(a.q[i], b.q[i]);
    return a;
  }
  static T sub(T a, T b) {
    for (int i = 0; i < kRegs; ++i) a.q[i] = vsubq_f32(a.q[i], b.q[i]);
    return a;
  }
  static T mul(T a, T b) {
    for (int i = 0; i < kRegs; ++i) a.q[i] = vmulq_f32(a.q[i], b.q[i]);
    return a;
  }
  // (fmax: a NaN in either operand gives NaN, so the second's passes)
  static T max(T a, T b) {
    for (int i = 0; i < kRegs; ++i) a.q[i] = vmaxq_f32(a.q[i], b.q[i]);
    return a;
  }
  // a * b + c and c - a * b, each rounded once (fmla, fmls)
  static T fmadd(T a, T b, T c) {
    for (int i = 0; i < kRegs; ++i) c.q[i] = vfmaq_f32(c.q[i], a.q[i], b.q[i]);
    return c;
  }
  static T fnmadd(T a, T b, T c) {
    for (int i = 0; i < kRegs; ++i) c.q[i] = vfmsq_f32(c.q[i], a.q[i], b.q[i]);
    return c;
  }
  // (frintn: to nearest, ties to even, as x86's round)
  static T round_nearest(T x) {
    for (int i = 0; i < kRegs; ++i) x.q[i] = vrndnq_f32(x.q[i]);
    return x;
  }
  // x * 2^k in two steps of 2^(k/2) (each a normal float for k >= -150), so that results
  // below 2^-126 come out as the subnormals they are (AArch64 Linux runs without
  // flush-to-zero).
  static T scale2(T x, T k) {
    for (int i = 0; i < kRegs; ++i) {
      const float32x4_t half = vrndq_f32(vmulq_f32(k.q[i], vdupq_n_f32(0.5f)));  // to zero
      x.q[i] = vmulq_f32(vmulq_f32(x.q[i], pow2(half)), pow2(vsubq_f32(k.q[i], half)));
    }
    return x;
  }
};

struct Bytes {
  // Each byte's "non-zero" (0xff or 0) keeps its bit of {1, 2, 4, ..., 128}; three rounds
  // of pairwise adds then sum each run of 8 bytes into one: byte j of the result is the
  // mask of p[8j, 8j + 8).
  static std::uint64_t nonzero64(const std::uint8_t* p) {
    alignas(16) static constexpr std::uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                                           1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bits = vld1q_u8(kBits);
    uint8x16_t v[4];
    for (int i = 0; i < 4; ++i) {
      const uint8x16_t x = vld1q_u8(p + 16 * i);
      v[i] = vandq_u8(vtstq_u8(x, x), bits);
    }
    const uint8x16_t pairs = vpaddq_u8(vpaddq_u8(v[0], v[1]), vpaddq_u8(v[2], v[3]));
    const uint8x16_t octets = vpaddq_u8(pairs, pairs);
    return vgetq_lane_u64(vreinterpretq_u64_u8(octets), 0);
  }
  // No compress instruction: one set bit at a time, as avx2.cc.
  static std::int64_t compress64(const std::uint8_t* p, std::uint64_t nz, std::int64_t c,
                                 std::uint16_t* index, std::uint8_t* value) {
    return compress64_plain(p, nz, c, index, value);
  }
};
