// The scalar table: plain loops for any CPU. They are the fallback and the reference
// (the oracle of tests/kernels_test.cc, and of sparse_matmul_reference and co.).
#include <cstdint>

#include "kernels/kernels.h"

namespace nabla::kernels {

namespace {

#include "kernels/loops.h"

std::int64_t count_nonzeros(const std::uint8_t* row, std::int64_t cols) {
  std::int64_t n = 0;
  for (std::int64_t c = 0; c < cols; ++c) n += row[c] != 0;
  return n;
}

std::int64_t compress_row(const std::uint8_t* row, std::int64_t cols, std::uint16_t* index,
                          std::uint8_t* value) {
  std::int64_t n = 0;
  for (std::int64_t c = 0; c < cols; ++c) {
    if (row[c] != 0) {
      index[n] = static_cast<std::uint16_t>(c);
      value[n++] = row[c];
    }
  }
  return n;
}

void gather(const Entries& en, const float* scaled, const PackedView& w, float* y) {
  const std::int64_t main = w.main_cols, tail = w.tail_cols;
  for (std::int64_t e = en.begin; e < en.end; ++e) {
    const float v = scaled[en.value[e]];
    const auto c = static_cast<std::int64_t>(en.index[e]);
    for (std::int64_t j = 0; j < main; ++j) y[j] += v * w.main[c * main + j];
    for (std::int64_t j = 0; j < tail; ++j) y[main + j] += v * w.tail[c * w.tail_stride + j];
  }
}

void columns(const std::int64_t* begin, const std::uint32_t* entries, std::int64_t c0,
             std::int64_t c1, const float* scaled, const float* d, std::int64_t stride,
             std::int64_t m, float* dw) {
  for (std::int64_t c = c0; c < c1; ++c) {
    for (std::int64_t e = begin[c]; e < begin[c + 1]; ++e) {
      const float v = scaled[entries[e] & 0xff];
      const float* dr = d + static_cast<std::int64_t>(entries[e] >> 8) * stride;
      for (std::int64_t j = 0; j < m; ++j) dw[c * m + j] += v * dr[j];
    }
  }
}

}  // namespace

const Table& scalar_table() {
  static const Table table{Isa::scalar,
                           count_nonzeros,
                           compress_row,
                           gather,
                           columns,
                           softmax_row_plain<float>,
                           softmax_row_plain<double>,
                           relu_plain<float>,
                           relu_plain<double>,
                           relu_backward_plain<float>,
                           relu_backward_plain<double>,
                           max_pool2x2_plain<float>,
                           max_pool2x2_plain<double>,
                           max_pool2x2_backward_plain<float>,
                           max_pool2x2_backward_plain<double>,
                           copy_rows_plain<float>,
                           copy_rows_plain<double>,
                           conv_valid_plain,
                           conv_valid_weight_grad_plain,
                           l1_distance_plain};
  return table;
}

}  // namespace nabla::kernels
