// The SIMD kernels, written once over per-ISA vector types. Included by each SIMD
// translation unit (avx2.cc, avx512.cc) inside its anonymous namespace, after it has
// defined, for its instruction set:
//   template <int N> struct Vec      N = 4, 8, 16 floats (Vec<16>: one cache line), each
//                                    with T (the register type) and static zero, set1,
//                                    load (aligned), loadu, storeu, load_first(p, n) (lanes
//                                    [0, n) from p, the rest 0; reads nothing past p + n),
//                                    store_first(p, n, x) (writes only p[0, n)), add, fmadd
//                                    (a * b + c); Vec<16> also mul, sub, max (NaN in the
//                                    second operand passes), fnmadd (c - a * b),
//                                    round_nearest and scale2 (x * 2^k, integral k in
//                                    [-150, 0]);
//   struct Bytes                     nonzero64(p): the 64-bit mask of p[0, 64)'s non-zero
//                                    bytes; compress64(p, mask, c, index, value): writes
//                                    the column (c + lane) and value of each set lane, in
//                                    order, nothing past them; returns how many;
//   constexpr int kMaxChunks         the most 16-float chunks a tile keeps in registers
//                                    (twice that many accumulators, plus the tail's);
//   max_pool2x2, max_pool2x2_backward, copy_rows
//                                    the float 2x2 max-pool of a plane, its backward and
//                                    copy_rows, as max_pool2x2_plain, ..._backward_plain and
//                                    copy_rows_plain (the same bits): avx512.cc's work on a
//                                    row 16 floats at a time in masked registers (a
//                                    convolution map's rows are shorter than a vector: 12
//                                    outputs, 24 pixels), avx2.cc's are the plain loops.
// and has included kernels/loops.h (the plain loops, which these use too). Like loops.h,
// free of standard-library templates: only builtins and intrinsics (see there why).
//
// (No include guard: each translation unit includes it once, in its own namespace.)

// ---- IDX row compression -----------------------------------------------------------------

std::int64_t count_nonzeros(const std::uint8_t* row, std::int64_t cols) {
  std::int64_t n = 0;
  std::int64_t c = 0;
  for (; c + 64 <= cols; c += 64) n += __builtin_popcountll(Bytes::nonzero64(row + c));
  for (; c < cols; ++c) n += row[c] != 0;
  return n;
}

std::int64_t compress_row(const std::uint8_t* row, std::int64_t cols, std::uint16_t* index,
                          std::uint8_t* value) {
  std::int64_t n = 0;
  std::int64_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    const std::uint64_t nz = Bytes::nonzero64(row + c);
    if (nz != 0) n += Bytes::compress64(row + c, nz, c, index + n, value + n);
  }
  for (; c < cols; ++c) {
    if (row[c] != 0) {
      index[n] = static_cast<std::uint16_t>(c);
      value[n++] = row[c];
    }
  }
  return n;
}

// ---- the sparse forward product: y += x . W, a row of the batch at a time ------------------

// Where one call of the gather kernel works: kChunks whole chunks of 16 main columns from
// its first column on (all in registers across the row's entries) and, if kTail, the tail
// columns too.
struct Tile {
  const float* main;  // the packed matrix's main array, at the tile's first column of row 0
  std::int64_t stride;
  const float* tail;  // its tail array
  std::int64_t tail_stride;
  int tail_cols;  // the tail's real columns
};

// y[0 : 16 kChunks] and, if kTail, y_tail[0 : tail columns] += sum_e v_e * w[c_e, same
// columns]. kTail is the tail array's width (4, 8 or 16), or 0 for none.
template <int kChunks, int kTail>
__attribute__((always_inline)) inline void gather_tile(const Entries& en, const float* scaled,
                                                       const Tile& w, float* y, float* y_tail) {
  using V = Vec<16>;
  using T = Vec<kTail == 0 ? 4 : kTail>;
  // Two sets of accumulators, for even and odd entries, so that an entry's FMAs need not
  // wait for the previous entry's (FMA latency, not throughput, would set the pace).
  typename V::T even[kChunks > 0 ? kChunks : 1], odd[kChunks > 0 ? kChunks : 1];
  typename T::T even_tail = T::zero(), odd_tail = T::zero();
  for (int k = 0; k < kChunks; ++k) {
    even[k] = V::loadu(y + 16 * k);
    odd[k] = V::zero();
  }
  if constexpr (kTail > 0) even_tail = T::load_first(y_tail, w.tail_cols);
  auto add_entry = [&](std::int64_t e, typename V::T * acc, typename T::T & acc_tail)
      __attribute__((always_inline)) {
    const float s = scaled[en.value[e]];
    const auto c = static_cast<std::int64_t>(en.index[e]);
    const float* wc = w.main + c * w.stride;
    if constexpr (kChunks > 0) {
      const typename V::T v = V::set1(s);
      for (int k = 0; k < kChunks; ++k) acc[k] = V::fmadd(v, V::load(wc + 16 * k), acc[k]);
    }
    if constexpr (kTail > 0) {
      acc_tail = T::fmadd(T::set1(s), T::load(w.tail + c * w.tail_stride), acc_tail);
    }
  };
  std::int64_t e = en.begin;
  for (; e + 1 < en.end; e += 2) {
    add_entry(e, even, even_tail);
    add_entry(e + 1, odd, odd_tail);
  }
  if (e < en.end) add_entry(e, even, even_tail);
  for (int k = 0; k < kChunks; ++k) V::storeu(y + 16 * k, V::add(even[k], odd[k]));
  if constexpr (kTail > 0) T::store_first(y_tail, w.tail_cols, T::add(even_tail, odd_tail));
}

// Calls f(chunks) with chunks in 1..kMaxChunks as a compile-time constant
// (std::integral_constant's stand-in: Int<N>).
template <int N>
struct Int {
  static constexpr int value = N;
  constexpr int operator()() const { return N; }
};

template <int N, class F>
__attribute__((always_inline)) inline void with_chunks(std::int64_t chunks, F&& f) {
  if constexpr (N <= 1) {
    f(Int<1>{});
  } else {
    if (chunks >= N) {
      f(Int<N>{});
    } else {
      with_chunks<N - 1>(chunks, f);
    }
  }
}

// One row of the batch: y[0 : cols] += its entries times the packed rows of w, in tiles
// of up to kMaxChunks chunks of 16 main columns; the tail columns go with the last tile.
void gather(const Entries& en, const float* scaled, const PackedView& w, float* y) {
  const std::int64_t main = w.main_cols;
  const std::int64_t tail_width = w.tail_cols > 0 ? w.tail_stride : 0;
  float* y_tail = y + main;
  std::int64_t j0 = 0;
  do {
    std::int64_t chunks = (main - j0) / 16;
    if (chunks > kMaxChunks) chunks = kMaxChunks;
    const bool last = j0 + 16 * chunks >= main;
    const Tile tile{w.main == nullptr ? nullptr : w.main + j0, main, w.tail, w.tail_stride,
                    static_cast<int>(w.tail_cols)};
    auto run = [&](auto tail) {
      if (chunks == 0) {
        gather_tile<0, decltype(tail)::value>(en, scaled, tile, y + j0, y_tail);
      } else {
        with_chunks<kMaxChunks>(chunks, [&](auto c) {
          gather_tile<decltype(c)::value, decltype(tail)::value>(en, scaled, tile, y + j0, y_tail);
        });
      }
    };
    switch (last ? tail_width : 0) {
      case 0:
        run(Int<0>{});
        break;
      case 4:
        run(Int<4>{});
        break;
      case 8:
        run(Int<8>{});
        break;
      default:
        run(Int<16>{});
        break;
    }
    j0 += 16 * chunks;
  } while (j0 < main);
}

// ---- the sparse weight gradient: dW += x^T . dY, a row of dW (a column of x) at a time ----

// dw[0 : 16 kChunks] += sum_e v_e * d[r_e, same columns] over entries [e0, e1) of a
// column, d padded (rows of `stride` floats, 64-byte aligned); only the first `last`
// columns of the last chunk are dw's.
template <int kChunks>
__attribute__((always_inline)) inline void column_tile(const std::uint32_t* entries,
                                                       std::int64_t e0, std::int64_t e1,
                                                       const float* scaled, const float* d,
                                                       std::int64_t stride, float* dw, int last) {
  using V = Vec<16>;
  // Two sets of accumulators, for even and odd entries (as in gather_tile).
  typename V::T even[kChunks], odd[kChunks];
  for (int k = 0; k < kChunks; ++k) even[k] = odd[k] = V::zero();
  auto add_entry = [&](std::uint32_t entry, typename V::T * acc) __attribute__((always_inline)) {
    const typename V::T v = V::set1(scaled[entry & 0xff]);
    const float* dr = d + static_cast<std::int64_t>(entry >> 8) * stride;
    for (int k = 0; k < kChunks; ++k) acc[k] = V::fmadd(v, V::load(dr + 16 * k), acc[k]);
  };
  std::int64_t e = e0;
  for (; e + 1 < e1; e += 2) {
    add_entry(entries[e], even);
    add_entry(entries[e + 1], odd);
  }
  if (e < e1) add_entry(entries[e], even);
  for (int k = 0; k + 1 < kChunks; ++k) {
    V::storeu(dw + 16 * k, V::add(V::loadu(dw + 16 * k), V::add(even[k], odd[k])));
  }
  float* at = dw + 16 * (kChunks - 1);
  const typename V::T sum = V::add(even[kChunks - 1], odd[kChunks - 1]);
  if (last == 16) {
    V::storeu(at, V::add(V::loadu(at), sum));
  } else {
    V::store_first(at, last, V::add(V::load_first(at, last), sum));
  }
}

// Rows [c0, c1) of dw (D, m), in tiles of up to kMaxChunks chunks of 16 columns, each
// summed in registers.
void columns(const std::int64_t* begin, const std::uint32_t* entries, std::int64_t c0,
             std::int64_t c1, const float* scaled, const float* d, std::int64_t stride,
             std::int64_t m, float* dw) {
  constexpr std::int64_t kTileCols = 16 * kMaxChunks;
  for (std::int64_t j0 = 0; j0 < m; j0 += kTileCols) {
    const std::int64_t width = m - j0 < kTileCols ? m - j0 : kTileCols;
    const std::int64_t chunks = (width + 15) / 16;
    const auto last = static_cast<int>(width - 16 * (chunks - 1));
    with_chunks<kMaxChunks>(chunks, [&](auto k) {
      for (std::int64_t c = c0; c < c1; ++c) {
        if (begin[c] == begin[c + 1]) continue;
        column_tile<decltype(k)::value>(entries, begin[c], begin[c + 1], scaled, d + j0, stride,
                                        dw + c * m + j0, last);
      }
    });
  }
}

// ---- softmax ---------------------------------------------------------------------------

// e^x for x <= 0, 16 at a time: x = k ln2 + r with |r| <= ln2 / 2, e^r by its Taylor
// series to r^7 (truncation error below 2e-9, under float rounding), then times 2^k.
// Below -104 (e^-104 is 0 in float) x is taken as -104. NaN stays NaN.
typename Vec<16>::T exp_nonpositive(typename Vec<16>::T x) {
  using V = Vec<16>;
  x = V::max(V::set1(-104.0f), x);
  const typename V::T k = V::round_nearest(V::mul(x, V::set1(1.44269504088896341f)));
  typename V::T r = V::fnmadd(k, V::set1(0.693145751953125f), x);  // ln 2, high bits
  r = V::fnmadd(k, V::set1(1.42860682030941723e-6f), r);           // and the rest
  typename V::T p = V::set1(1.0f / 5040);
  const float coefficients[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
  for (float coefficient : coefficients) p = V::fmadd(p, r, V::set1(coefficient));
  return V::scale2(p, k);
}

// softmax_row_plain for a float row of at most 16 classes, in one vector; longer rows by
// the plain loop.
double softmax_row(const float* s, std::int64_t c, float* y) {
  using V = Vec<16>;
  if (c <= 0 || c > 16) return softmax_row_plain(s, c, y);
  float m = s[0];
  for (std::int64_t j = 1; j < c; ++j) m = s[j] > m ? s[j] : m;
  const int n = static_cast<int>(c);
  alignas(64) float e[16];
  V::storeu(e, exp_nonpositive(V::sub(V::load_first(s, n), V::set1(m))));
  float sum = 0;
  for (int j = 0; j < n; ++j) sum += e[j];  // in the plain loop's order
  V::store_first(y, n, V::mul(V::loadu(e), V::set1(1.0f / sum)));
  return __builtin_log(static_cast<double>(sum)) + static_cast<double>(m);
}

// ---- direct convolution, stride 1, no padding ----------------------------------------------

// Output row i of kF filters, kN vectors of 8 outputs from column j0 on (the last vector's
// first `last` lanes only when kPartial): every product of the (ch, u, v) loop adds a
// broadcast weight times 8 pixels in a row of the image, as conv_valid_plain sums them.
template <int kF, int kN, bool kPartial>
__attribute__((always_inline)) inline void conv_tile(const ConvShape& s, const float* x,
                                                     const float* weights, const float* bias,
                                                     std::int64_t i, std::int64_t j0, int last,
                                                     float* out) {
  using V = Vec<8>;
  const std::int64_t depth = s.c * s.kh * s.kw, plane = s.oh * s.ow;
  typename V::T acc[kF][kN];
  for (int k = 0; k < kF; ++k) {
    const typename V::T b = V::set1(bias[k]);
    for (int t = 0; t < kN; ++t) acc[k][t] = b;
  }
  for (std::int64_t ch = 0; ch < s.c; ++ch)
    for (std::int64_t u = 0; u < s.kh; ++u) {
      const float* row = x + (ch * s.h + i + u) * s.w + j0;
      const float* wrow = weights + (ch * s.kh + u) * s.kw;
      for (std::int64_t v = 0; v < s.kw; ++v) {
        typename V::T px[kN];
        for (int t = 0; t < kN; ++t) {
          px[t] = kPartial && t == kN - 1 ? V::load_first(row + v + 8 * t, last)
                                          : V::loadu(row + v + 8 * t);
        }
        for (int k = 0; k < kF; ++k) {
          const typename V::T wk = V::set1(wrow[k * depth + v]);
          for (int t = 0; t < kN; ++t) acc[k][t] = V::fmadd(wk, px[t], acc[k][t]);
        }
      }
    }
  for (int k = 0; k < kF; ++k) {
    float* o = out + k * plane + i * s.ow + j0;
    for (int t = 0; t < kN; ++t) {
      if (kPartial && t == kN - 1) {
        V::store_first(o + 8 * t, last, acc[k][t]);
      } else {
        V::storeu(o + 8 * t, acc[k][t]);
      }
    }
  }
}

// Filters [k0, k0 + kF) over the whole output: each row in tiles of up to 3 vectors.
template <int kF>
void conv_filters(const ConvShape& s, const float* x, const float* weights, const float* bias,
                  float* out) {
  for (std::int64_t i = 0; i < s.oh; ++i) {
    std::int64_t j0 = 0;
    for (; j0 + 24 <= s.ow; j0 += 24) conv_tile<kF, 3, false>(s, x, weights, bias, i, j0, 8, out);
    const std::int64_t rest = s.ow - j0;
    if (rest == 0) continue;
    const int vectors = static_cast<int>((rest + 7) / 8);
    const int last = static_cast<int>(rest - 8 * (vectors - 1));
    if (vectors == 1) {
      conv_tile<kF, 1, true>(s, x, weights, bias, i, j0, last, out);
    } else if (vectors == 2) {
      conv_tile<kF, 2, true>(s, x, weights, bias, i, j0, last, out);
    } else {
      conv_tile<kF, 3, true>(s, x, weights, bias, i, j0, last, out);
    }
  }
}

void conv_valid(const ConvShape& s, const float* x, const float* weights, const float* bias,
                float* out) {
  const std::int64_t depth = s.c * s.kh * s.kw, plane = s.oh * s.ow;
  std::int64_t k = 0;
  for (; k + 4 <= s.f; k += 4) conv_filters<4>(s, x, weights + k * depth, bias + k, out + k * plane);
  const float* w = weights + k * depth;
  switch (s.f - k) {
    case 3:
      conv_filters<3>(s, x, w, bias + k, out + k * plane);
      break;
    case 2:
      conv_filters<2>(s, x, w, bias + k, out + k * plane);
      break;
    case 1:
      conv_filters<1>(s, x, w, bias + k, out + k * plane);
      break;
    default:
      break;
  }
}

// The 8 lanes of a vector summed, lane 0 first.
template <class VT>
__attribute__((always_inline)) inline float lanes_sum(VT x) {
  alignas(32) float lanes[8];
  Vec<8>::storeu(lanes, x);
  float sum = 0;
  for (float lane : lanes) sum += lane;
  return sum;
}

// dw[k, ch, u, v0 + dv] for kF filters and kV taps of one kernel row: each a sum over the
// output of dout times the image shifted by (u, v0 + dv), 8 columns at a time.
template <int kF, int kV>
__attribute__((always_inline)) inline void conv_grad_tile(const ConvShape& s, const float* x,
                                                          const float* dout, std::int64_t ch,
                                                          std::int64_t u, std::int64_t v0,
                                                          float* dw) {
  using V = Vec<8>;
  const std::int64_t depth = s.c * s.kh * s.kw, plane = s.oh * s.ow;
  typename V::T acc[kF][kV];
  for (int k = 0; k < kF; ++k)
    for (int dv = 0; dv < kV; ++dv) acc[k][dv] = V::zero();
  const std::int64_t full = s.ow / 8 * 8;
  const int rest = static_cast<int>(s.ow - full);
  for (std::int64_t i = 0; i < s.oh; ++i) {
    const float* row = x + (ch * s.h + i + u) * s.w + v0;
    const float* d = dout + i * s.ow;
    auto add = [&](std::int64_t j, typename V::T (&dk)[kF], int n) __attribute__((always_inline)) {
      for (int dv = 0; dv < kV; ++dv) {
        const typename V::T px = n == 8 ? V::loadu(row + dv + j) : V::load_first(row + dv + j, n);
        for (int k = 0; k < kF; ++k) acc[k][dv] = V::fmadd(dk[k], px, acc[k][dv]);
      }
    };
    for (std::int64_t j = 0; j < full; j += 8) {
      typename V::T dk[kF];
      for (int k = 0; k < kF; ++k) dk[k] = V::loadu(d + k * plane + j);
      add(j, dk, 8);
    }
    if (rest > 0) {
      typename V::T dk[kF];
      for (int k = 0; k < kF; ++k) dk[k] = V::load_first(d + k * plane + full, rest);
      add(full, dk, rest);
    }
  }
  for (int k = 0; k < kF; ++k)
    for (int dv = 0; dv < kV; ++dv) dw[k * depth + (ch * s.kh + u) * s.kw + v0 + dv] += lanes_sum(acc[k][dv]);
}

template <int kF>
void conv_grad_filters(const ConvShape& s, const float* x, const float* dout, float* dw) {
  for (std::int64_t ch = 0; ch < s.c; ++ch)
    for (std::int64_t u = 0; u < s.kh; ++u) {
      std::int64_t v0 = 0;
      for (; v0 + 4 <= s.kw; v0 += 4) conv_grad_tile<kF, 4>(s, x, dout, ch, u, v0, dw);
      switch (s.kw - v0) {
        case 3:
          conv_grad_tile<kF, 3>(s, x, dout, ch, u, v0, dw);
          break;
        case 2:
          conv_grad_tile<kF, 2>(s, x, dout, ch, u, v0, dw);
          break;
        case 1:
          conv_grad_tile<kF, 1>(s, x, dout, ch, u, v0, dw);
          break;
        default:
          break;
      }
    }
}

void conv_valid_weight_grad(const ConvShape& s, const float* x, const float* dout, float* dw,
                            float* db) {
  using V = Vec<8>;
  const std::int64_t depth = s.c * s.kh * s.kw, plane = s.oh * s.ow;
  for (std::int64_t k = 0; k < s.f; ++k) {
    const float* d = dout + k * plane;
    typename V::T sum = V::zero();
    std::int64_t o = 0;
    for (; o + 8 <= plane; o += 8) sum = V::add(sum, V::loadu(d + o));
    if (o < plane) sum = V::add(sum, V::load_first(d + o, static_cast<int>(plane - o)));
    db[k] += lanes_sum(sum);
  }
  // 3 filters x 4 taps: 12 accumulators, 7 loads for 12 FMAs
  std::int64_t k = 0;
  for (; k + 3 <= s.f; k += 3) conv_grad_filters<3>(s, x, dout + k * plane, dw + k * depth);
  if (s.f - k == 2) conv_grad_filters<2>(s, x, dout + k * plane, dw + k * depth);
  if (s.f - k == 1) conv_grad_filters<1>(s, x, dout + k * plane, dw + k * depth);
}

// ---- the table ---------------------------------------------------------------------------

Table simd_table(Isa isa) {
  return Table{isa,
               count_nonzeros,
               compress_row,
               gather,
               columns,
               softmax_row,
               softmax_row_plain<double>,
               relu_plain<float>,
               relu_plain<double>,
               relu_backward_plain<float>,
               relu_backward_plain<double>,
               max_pool2x2,
               max_pool2x2_plain<double>,
               max_pool2x2_backward,
               max_pool2x2_backward_plain<double>,
               copy_rows,
               copy_rows_plain<double>,
               conv_valid,
               conv_valid_weight_grad,
               l1_distance_plain};
}
