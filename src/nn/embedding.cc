// Embedding: rows of W looked up by id; backward adds into only the rows that were used.
#include "nabla/nn/embedding.h"

#include <cstring>
#include <string>
#include <utility>

namespace nabla {

Embedding::Embedding(Tensor table, EmbeddingGrad grad) : grad_mode_(grad) {
  if (table.rank() != 2) {
    throw ShapeError("Embedding: expected a table (V, d), got " + shape_str(table.shape()));
  }
  check_floating(table, "Embedding");
  register_parameter("W", std::move(table));
}

Embedding::Embedding(std::int64_t vocab, std::int64_t dim, double scale, Rng& rng, DType dtype,
                     EmbeddingGrad grad)
    : Embedding(Tensor::uniform({vocab, dim}, rng, -scale, scale, dtype), grad) {}

Tensor Embedding::forward(const Tensor& ids) {
  if (ids.dtype() != DType::i64) {
    throw ValueError(std::string("Embedding: ids must be int64, got ") + dtype_name(ids.dtype()));
  }
  if (ids.rank() != 1 && ids.rank() != 2) {
    throw ShapeError("Embedding: ids must be (N) or (N, k), got " + shape_str(ids.shape()));
  }
  const Tensor& w = W().value();
  const std::int64_t v = w.size(0), d = w.size(1), n = ids.size(0);
  const std::int64_t k = ids.rank() == 2 ? ids.size(1) : 1;
  const std::int64_t* id = ids.data<std::int64_t>();
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    if (id[i] < 0 || id[i] >= v) {
      throw ValueError("Embedding: id " + std::to_string(id[i]) + " at position " +
                       std::to_string(i) + " is outside the table's rows [0, " + std::to_string(v) +
                       ")");
    }
  }
  Tensor out = Tensor::empty({n, k * d}, w.dtype());  // every row copied below
  const std::size_t row_bytes = static_cast<std::size_t>(d) * dtype_size(w.dtype());
  const auto* src = static_cast<const char*>(w.raw());
  auto* dst = static_cast<char*>(out.raw());
  for (std::int64_t i = 0; row_bytes > 0 && i < ids.numel(); ++i) {
    std::memcpy(dst + static_cast<std::size_t>(i) * row_bytes,
                src + static_cast<std::size_t>(id[i]) * row_bytes, row_bytes);
  }
  if (is_training()) {
    ids_ = ids;  // reuses ids_'s storage when the size is unchanged
    ids_shape_ = out.shape();
  } else {
    ids_ = Tensor();
  }
  return out;
}

Tensor Embedding::backward(const Tensor& dout) {
  require_forward(ids_.defined());
  if (dout.shape() != ids_shape_ || dout.dtype() != W().dtype()) {
    throw ShapeError("Embedding backward: dout " + std::string(dtype_name(dout.dtype())) +
                     shape_str(dout.shape()) + ", expected the forward's output " +
                     dtype_name(W().dtype()) + shape_str(ids_shape_));
  }
  if (grad_mode_ == EmbeddingGrad::sparse) {
    add_sparse(dout);
  } else {
    add_dense(dout);
  }
  return Tensor();
}

void Embedding::add_dense(const Tensor& dout) {
  // dW[id] += dout row of each use of id (dout (N*k, d) read row by row)
  Tensor dW(W().shape(), dout.dtype());
  const std::int64_t d = dim();
  const std::int64_t* id = ids_.data<std::int64_t>();
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* g = dout.data<T>();
    T* acc = dW.data<T>();
    for (std::int64_t i = 0; i < ids_.numel(); ++i) {
      T* row = acc + id[i] * d;
      const T* from = g + i * d;
      for (std::int64_t j = 0; j < d; ++j) row[j] += from[j];
    }
  });
  accumulate_grad(W(), dW, "Embedding");
}

void Embedding::add_sparse(const Tensor& dout) {
  Sparse& s = *sparse_;
  RowGradient& g = s.grad;
  const std::int64_t d = dim();
  if (s.slot.size() != static_cast<std::size_t>(vocab())) s.slot.assign(vocab(), -1);
  if (g.empty()) g.values = Tensor();
  // First the rows not seen since the last clear get a slot (and a zero row).
  const std::int64_t* id = ids_.data<std::int64_t>();
  const std::size_t before = g.rows.size();
  for (std::int64_t i = 0; i < ids_.numel(); ++i) {
    std::int64_t& slot = s.slot[static_cast<std::size_t>(id[i])];
    if (slot >= 0) continue;
    slot = static_cast<std::int64_t>(g.rows.size());
    g.rows.push_back(id[i]);
  }
  const auto used = static_cast<std::int64_t>(g.rows.size());
  if (g.rows.size() != before || !g.values.defined()) {
    Tensor grown({used, d}, dout.dtype());  // zeros; rows from earlier backwards kept
    if (g.values.defined() && g.values.nbytes() > 0) {
      std::memcpy(grown.raw(), g.values.raw(), g.values.nbytes());
    }
    g.values = std::move(grown);
  }
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* from = dout.data<T>();
    T* acc = g.values.data<T>();
    for (std::int64_t i = 0; i < ids_.numel(); ++i) {
      T* row = acc + s.slot[static_cast<std::size_t>(id[i])] * d;
      const T* src = from + i * d;
      for (std::int64_t j = 0; j < d; ++j) row[j] += src[j];
    }
  });
}

void Embedding::clear_row_grad() {
  Sparse& s = *sparse_;
  for (std::int64_t r : s.grad.rows) s.slot[static_cast<std::size_t>(r)] = -1;
  s.grad.rows.clear();
}

}  // namespace nabla
