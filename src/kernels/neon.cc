// The neon table: simd_body.h for AArch64's Advanced SIMD (NEON), which every AArch64 CPU
// has (Apple silicon, Graviton, Ampere, Raspberry Pi 3 and later): no extra compiler flags,
// and always chosen on aarch64. 16 floats are four q registers; a tile keeps 3 chunks of 16
// (24 accumulators and the tail's, of 32 registers).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace nabla::kernels {

namespace {

#include "kernels/loops.h"
#include "kernels/neon_vectors.h"

constexpr int kMaxChunks = 3;

// (the plain loops, which GCC vectorises for NEON: ld2 splits a row's even and odd columns)
void max_pool2x2(const float* x, std::int64_t h, std::int64_t w, float* out, std::int32_t* arg) {
  max_pool2x2_plain(x, h, w, out, arg);
}
void copy_rows(const float* src, std::int64_t src_stride, std::int64_t rows, std::int64_t cols,
               float* dst, std::int64_t dst_stride) {
  copy_rows_plain(src, src_stride, rows, cols, dst, dst_stride);
}
void max_pool2x2_backward(const float* dout, const std::int32_t* arg, std::int64_t h,
                          std::int64_t w, float* dx) {
  max_pool2x2_backward_plain(dout, arg, h, w, dx);
}

#include "kernels/simd_body.h"

}  // namespace

const Table& neon_table() {
  static const Table table = simd_table(Isa::neon);
  return table;
}

}  // namespace nabla::kernels
