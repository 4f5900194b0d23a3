// Plain loops of the kernel layer, written once and built into every table: the scalar
// table uses them as they are; each SIMD translation unit includes this file too, inside
// its own anonymous namespace, so that the compiler vectorises them for that level.
//
// Include it only inside an anonymous namespace, and keep it free of standard-library
// templates and inline functions (std::max, std::exp, ...): a translation unit built for
// AVX-512 would otherwise emit a copy of them that the linker may pick for the whole
// program, which then stops with SIGILL on a CPU without AVX-512. Only builtins here.
//
// (No include guard: each translation unit includes it once, in its own namespace.)

inline float exp_of(float x) { return __builtin_expf(x); }
inline double exp_of(double x) { return __builtin_exp(x); }

// y = softmax(s[0, c)) (stable: the row max m is subtracted); returns
// log sum_k exp(s_k - m) + m.
template <class T>
double softmax_row_plain(const T* s, std::int64_t c, T* y) {
  if (c <= 0) return -__builtin_inf();  // the log of an empty sum
  T m = s[0];
  for (std::int64_t j = 1; j < c; ++j) m = s[j] > m ? s[j] : m;
  T sum = 0;
  for (std::int64_t j = 0; j < c; ++j) sum += (y[j] = exp_of(s[j] - m));
  const T inv = T{1} / sum;
  for (std::int64_t j = 0; j < c; ++j) y[j] *= inv;
  return __builtin_log(static_cast<double>(sum)) + static_cast<double>(m);
}

// out[i] = max(x[i], 0) and mask[i] = 1 where x[i] <= 0 (those outputs, and their
// gradients, are zero), in one pass.
template <class T>
void relu_plain(const T* __restrict x, std::int64_t n, T* __restrict out,
                std::uint8_t* __restrict mask) {
  for (std::int64_t i = 0; i < n; ++i) {
    out[i] = x[i] > T{0} ? x[i] : T{0};
    mask[i] = x[i] <= T{0} ? 1 : 0;
  }
}

// dx[i] = mask[i] ? 0 : dout[i]: ReLU's backward, by the forward's mask.
template <class T>
void relu_backward_plain(const T* __restrict dout, const std::uint8_t* __restrict mask,
                         std::int64_t n, T* __restrict dx) {
  // (dout read whatever the mask, so that the select needs no masked load: NEON has none)
  for (std::int64_t i = 0; i < n; ++i) {
    const T d = dout[i];
    dx[i] = mask[i] ? T{0} : d;
  }
}

// 2x2 max-pooling with stride 2 of one plane x (h, w): out (h/2, w/2) holds each window's
// maximum and arg its position in the plane (the first maximum in row-major order on
// ties). No branches on the data: the larger of each row's pair, then of the two.
template <class T>
void max_pool2x2_plain(const T* __restrict x, std::int64_t h, std::int64_t w, T* __restrict out,
                       std::int32_t* __restrict arg) {
  const std::int64_t oh = h / 2, ow = w / 2;
  const auto width = static_cast<std::int32_t>(w);
  for (std::int64_t i = 0; i < oh; ++i) {
    const T* r0 = x + 2 * i * w;
    const T* r1 = r0 + w;
    T* o = out + i * ow;
    std::int32_t* a = arg + i * ow;
    const auto top = static_cast<std::int32_t>(2 * i * w);
    // (int arithmetic on the comparisons rather than selects: GCC vectorises this form)
    for (std::int32_t j = 0; j < static_cast<std::int32_t>(ow); ++j) {
      const T a00 = r0[2 * j], a01 = r0[2 * j + 1], a10 = r1[2 * j], a11 = r1[2 * j + 1];
      const std::int32_t right0 = a01 > a00, right1 = a11 > a10;
      const T m0 = right0 ? a01 : a00;
      const T m1 = right1 ? a11 : a10;
      const std::int32_t lower = m1 > m0;
      o[j] = lower ? m1 : m0;
      a[j] = top + 2 * j + lower * (width + right1) + (1 - lower) * right0;
    }
  }
}

// The backward of max_pool2x2_plain over one plane: dx (h, w) zero but at each window's
// maximum arg[o], which gets dout[o] (the windows do not overlap).
template <class T>
void max_pool2x2_backward_plain(const T* __restrict dout, const std::int32_t* __restrict arg,
                                std::int64_t h, std::int64_t w, T* __restrict dx) {
  for (std::int64_t i = 0; i < h * w; ++i) dx[i] = T{0};
  const std::int64_t outputs = (h / 2) * (w / 2);
  for (std::int64_t o = 0; o < outputs; ++o) dx[arg[o]] = dout[o];
}

// dst[r * dst_stride + t] = src[r * src_stride + t] for r < rows, t < cols: a block of
// rows copied (an image's pixels into a convolution's columns).
template <class T>
void copy_rows_plain(const T* __restrict src, std::int64_t src_stride, std::int64_t rows,
                     std::int64_t cols, T* __restrict dst, std::int64_t dst_stride) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* __restrict s = src + r * src_stride;
    T* __restrict d = dst + r * dst_stride;
    for (std::int64_t t = 0; t < cols; ++t) d[t] = s[t];
  }
}

// Table::conv_valid_f32 in plain loops: each output a sum in the order bias, then (ch, u, v).
inline void conv_valid_plain(const ConvShape& s, const float* __restrict x,
                             const float* __restrict weights, const float* __restrict bias,
                             float* __restrict out) {
  const std::int64_t oh = s.oh, ow = s.ow, depth = s.c * s.kh * s.kw;
  for (std::int64_t k = 0; k < s.f; ++k)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        float sum = bias[k];
        for (std::int64_t ch = 0; ch < s.c; ++ch)
          for (std::int64_t u = 0; u < s.kh; ++u)
            for (std::int64_t v = 0; v < s.kw; ++v)
              sum += weights[k * depth + (ch * s.kh + u) * s.kw + v] *
                     x[(ch * s.h + i + u) * s.w + j + v];
        out[(k * oh + i) * ow + j] = sum;
      }
}

// Table::conv_valid_weight_grad_f32 in plain loops: each sum over (i, j) in row order.
inline void conv_valid_weight_grad_plain(const ConvShape& s, const float* __restrict x,
                                         const float* __restrict dout, float* __restrict dw,
                                         float* __restrict db) {
  const std::int64_t oh = s.oh, ow = s.ow, depth = s.c * s.kh * s.kw;
  for (std::int64_t k = 0; k < s.f; ++k) {
    const float* d = dout + k * oh * ow;
    float bias = 0;
    for (std::int64_t o = 0; o < oh * ow; ++o) bias += d[o];
    db[k] += bias;
    for (std::int64_t ch = 0; ch < s.c; ++ch)
      for (std::int64_t u = 0; u < s.kh; ++u)
        for (std::int64_t v = 0; v < s.kw; ++v) {
          float sum = 0;
          for (std::int64_t i = 0; i < oh; ++i)
            for (std::int64_t j = 0; j < ow; ++j)
              sum += d[i * ow + j] * x[(ch * s.h + i + u) * s.w + j + v];
          dw[k * depth + (ch * s.kh + u) * s.kw + v] += sum;
        }
  }
}

// The columns (c + lane) and values p[lane] of the set lanes of nz (a mask of p[0, 64)'s
// non-zero bytes), in order, one set bit at a time; returns how many. For the SIMD levels
// without a compress instruction (MNIST: about 150 of 784 pixels a row).
inline std::int64_t compress64_plain(const std::uint8_t* p, std::uint64_t nz, std::int64_t c,
                                     std::uint16_t* index, std::uint8_t* value) {
  std::int64_t n = 0;
  for (; nz != 0; nz &= nz - 1, ++n) {
    const int lane = __builtin_ctzll(nz);
    index[n] = static_cast<std::uint16_t>(c + lane);
    value[n] = p[lane];
  }
  return n;
}

// sum |a[i] - b[i]|: an int accumulator over bytes, which compilers turn into SAD
// instructions (psadbw).
std::int64_t l1_distance_plain(const std::uint8_t* __restrict a, const std::uint8_t* __restrict b,
                               std::int64_t n) {
  int sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const int d = int{a[i]} - int{b[i]};
    sum += d < 0 ? -d : d;
  }
  return sum;
}
