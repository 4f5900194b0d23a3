// The pooling and row-copy entries of a kernel level from the plain loops (loops.h),
// compiled with the level's instructions: included inside the level's anonymous namespace
// (avx2.cc, neon.cc), where GCC vectorises them as well as hand-written masks would (8
// lanes on AVX2; on NEON, ld2 splits a row's even and odd columns). AVX-512 has its own.
#pragma once

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
