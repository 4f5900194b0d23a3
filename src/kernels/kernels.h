// The kernel layer: every SIMD loop of the library, compiled once per instruction set and
// chosen at run time (private to the library; no vector width reaches include/nabla/).
//
// Each kernel family is a function pointer in a Table. One table per level:
//   scalar  plain loops, built for any CPU: the fallback and the oracle the others are
//           tested against (scalar.cc);
//   avx2    AVX2 + FMA (Haswell, Zen 1 and later), avx2.cc;
//   avx512  AVX-512 F/BW/VL/DQ/VBMI2 (Ice Lake, Sapphire Rapids, Zen 4), avx512.cc;
//   neon    AArch64's Advanced SIMD, which every AArch64 CPU has, neon.cc.
// The three SIMD levels share one source (simd_body.h) written over per-ISA vector types
// (x86_vectors.h, neon_vectors.h and the top of each .cc); plain loops that the compiler
// vectorises on its own (ReLU, the L1 distance) are written once in loops.h and built into
// every table.
// active() is the best table this CPU runs, or the level NABLA_ISA asks for
// (scalar | avx2 | avx512 | neon; a level this CPU or build cannot run is replaced by the
// best one it runs, with a warning).
// Results are bit-for-bit equal across runs on one level, not across levels (the sums
// are taken in another order).
#pragma once

#include <cstdint>
#include <vector>

namespace nabla::kernels {

// (avx2 and avx512 are built on x86-64 only, neon on aarch64 only)
enum class Isa { scalar = 0, avx2 = 1, avx512 = 2, neon = 3 };

// "scalar", "avx2", "avx512" or "neon".
const char* isa_name(Isa isa);

// One row of a SparsePixels: entries [begin, end) of its index (column) and value arrays.
struct Entries {
  const std::uint16_t* index;
  const std::uint8_t* value;
  std::int64_t begin, end;
};

// A PackedRows (nabla/sparse.h) as the kernels read it: the first main_cols columns of
// each row in `main` (rows of main_cols floats, 64-byte aligned, main_cols a multiple of
// 16), the last tail_cols in `tail` (rows of tail_stride floats, zero padded).
struct PackedView {
  const float* main;
  std::int64_t main_cols;
  const float* tail;
  std::int64_t tail_cols, tail_stride;
};

// One image's convolution with stride 1 and no padding ("valid"): x (c, h, w), weights
// (f, c, kh, kw), output (f, oh, ow) with oh = h - kh + 1, ow = w - kw + 1 (both >= 1).
// (Plain data: an inline member function here would be compiled into every table's
// translation unit, and the linker could keep the AVX-512 one for all; see loops.h.)
struct ConvShape {
  std::int64_t c, h, w, f, kh, kw, oh, ow;
};

struct Table {
  Isa isa;
  // The number of non-zero bytes of row[0, cols).
  std::int64_t (*count_nonzeros)(const std::uint8_t* row, std::int64_t cols);
  // Writes the columns and values of row[0, cols)'s non-zero bytes, in order; returns how
  // many. Writes nothing past index[n) and value[n).
  std::int64_t (*compress_row)(const std::uint8_t* row, std::int64_t cols, std::uint16_t* index,
                               std::uint8_t* value);
  // y[0 : main_cols + tail_cols] += sum over the row's entries e of
  //   scaled[value_e] * w[index_e, :]          (scaled: 256 floats, pixel -> its value)
  void (*gather)(const Entries& row, const float* scaled, const PackedView& w, float* y);
  // For the columns c in [c0, c1) of a batch by column (SparseColumns: column c's entries
  // are entries[begin[c], begin[c + 1]), each row << 8 | pixel):
  //   dw[c, 0:m] += sum over c's entries of scaled[pixel] * d[row, 0:m],
  // d with rows of `stride` floats (stride a multiple of 16, 64-byte aligned rows, the
  // padding zero), dw (D, m) row-major.
  void (*columns)(const std::int64_t* begin, const std::uint32_t* entries, std::int64_t c0,
                  std::int64_t c1, const float* scaled, const float* d, std::int64_t stride,
                  std::int64_t m, float* dw);
  // y = softmax(s[0, c)); returns log sum_k exp(s_k - max) + max.
  double (*softmax_row_f32)(const float* s, std::int64_t c, float* y);
  double (*softmax_row_f64)(const double* s, std::int64_t c, double* y);
  // out[i] = max(x[i], 0), mask[i] = x[i] <= 0 (1 or 0).
  void (*relu_f32)(const float* x, std::int64_t n, float* out, std::uint8_t* mask);
  void (*relu_f64)(const double* x, std::int64_t n, double* out, std::uint8_t* mask);
  // dx[i] = mask[i] ? 0 : dout[i] (ReLU's backward, by the mask of relu_*).
  void (*relu_backward_f32)(const float* dout, const std::uint8_t* mask, std::int64_t n, float* dx);
  void (*relu_backward_f64)(const double* dout, const std::uint8_t* mask, std::int64_t n,
                            double* dx);
  // 2x2 max-pooling with stride 2 of one plane x (h, w): out (h/2, w/2) the maxima, arg
  // their positions in the plane (the first on ties).
  void (*max_pool2x2_f32)(const float* x, std::int64_t h, std::int64_t w, float* out,
                          std::int32_t* arg);
  void (*max_pool2x2_f64)(const double* x, std::int64_t h, std::int64_t w, double* out,
                          std::int32_t* arg);
  // Its backward: dx (h, w) = dout[o] at each window's arg[o], 0 elsewhere.
  void (*max_pool2x2_backward_f32)(const float* dout, const std::int32_t* arg, std::int64_t h,
                                   std::int64_t w, float* dx);
  void (*max_pool2x2_backward_f64)(const double* dout, const std::int32_t* arg, std::int64_t h,
                                   std::int64_t w, double* dx);
  // dst[r * dst_stride + t] = src[r * src_stride + t] for r < rows, t < cols.
  void (*copy_rows_f32)(const float* src, std::int64_t src_stride, std::int64_t rows,
                        std::int64_t cols, float* dst, std::int64_t dst_stride);
  void (*copy_rows_f64)(const double* src, std::int64_t src_stride, std::int64_t rows,
                        std::int64_t cols, double* dst, std::int64_t dst_stride);
  // The direct convolution of one image (ConvShape):
  //   out[k, i, j] = bias[k] + sum over (ch, u, v) of weights[k, ch, u, v] * x[ch, i + u, j + v]
  void (*conv_valid_f32)(const ConvShape& s, const float* x, const float* weights,
                         const float* bias, float* out);
  // and its weight gradient, added:
  //   dw[k, ch, u, v] += sum over (i, j) of dout[k, i, j] * x[ch, i + u, j + v],
  //   db[k] += sum over (i, j) of dout[k, i, j].
  void (*conv_valid_weight_grad_f32)(const ConvShape& s, const float* x, const float* dout,
                                     float* dw, float* db);
  // sum |a[i] - b[i]| over bytes.
  std::int64_t (*l1_distance)(const std::uint8_t* a, const std::uint8_t* b, std::int64_t n);
};

// The table in use (chosen on the first call; ValueError if NABLA_ISA names no level).
const Table& active();
// The table of one level, or nullptr when it is not built in or this CPU cannot run it.
const Table* table_for(Isa isa);
// Every level this CPU runs, scalar (always there) first and the best last.
std::vector<Isa> runnable_isas();

// The tables of each translation unit, unchecked (avx2 and avx512 exist on x86-64 only,
// neon on aarch64 only; calling one the CPU cannot run stops with SIGILL: use table_for).
const Table& scalar_table();
const Table& avx2_table();
const Table& avx512_table();
const Table& neon_table();

}  // namespace nabla::kernels
