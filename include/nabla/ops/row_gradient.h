// nabla/row_gradient.h — the gradient of a table that is zero outside some rows.
//
// An embedding table (V, d) of 20,000 words gets, from a batch of 64 windows of 5 words,
// a gradient in at most 320 rows. RowGradient keeps only those: what Embedding's
// backward produces (embedding.h) and what Optimizer::step updates lazily (optim.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

struct RowGradient {
  std::vector<std::int64_t> rows;  // distinct row indices, in the order first used
  Tensor values;                   // (rows.size(), d): row i is dL/dW[rows[i]]

  bool empty() const { return rows.empty(); }

  // The same gradient as a dense (vocab, d) tensor, zero outside `rows`.
  Tensor to_dense(std::int64_t vocab) const {
    const std::int64_t d = values.defined() && values.rank() == 2 ? values.size(1) : 0;
    Tensor dense({vocab, d}, values.defined() ? values.dtype() : DType::f32);
    const std::size_t row_bytes = static_cast<std::size_t>(d) * dtype_size(dense.dtype());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::memcpy(static_cast<char*>(dense.raw()) + static_cast<std::size_t>(rows[i]) * row_bytes,
                  static_cast<const char*>(values.raw()) + i * row_bytes, row_bytes);
    }
    return dense;
  }
};

}  // namespace nabla
NABLA_API_END
