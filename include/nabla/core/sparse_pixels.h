// nabla/core/sparse_pixels.h — rows of mostly-zero pixels, stored by their non-zero
// entries.
//
// MNIST images are about 81% zeros. The first layer's products Y = X.W and
// dW = X^T.dY only need the non-zero pixels (ops/sparse.h), so the images are kept in
// this form: about 3 bytes a non-zero pixel. data/mnist.h reads them so from IDX files.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/detail/large_buffer.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

class SparsePixels {
 public:
  SparsePixels() = default;
  // `rows` x `cols` uint8 pixels (row-major); each value is pixel * scale. With current workers
  // (detail/workers.h), the rows are compressed in parts at once.
  SparsePixels(const std::uint8_t* pixels, std::int64_t rows, std::int64_t cols, float scale);
  // No rows yet, of `cols` columns (at most 65536), each value pixel * scale.
  SparsePixels(std::int64_t cols, float scale);
  // Room for `rows` rows and `entries` non-zeros, so that append_rows does not move them.
  void reserve(std::int64_t rows, std::int64_t entries);
  // Appends `rows` rows of cols() uint8 pixels. With current workers (detail/workers.h), the rows are
  // compressed in parts at once.
  void append_rows(const std::uint8_t* pixels, std::int64_t rows);
  // Becomes a copy of rows `rows` of `from`, in that order (storage reused). A batch of
  // random rows copied together is read from memory with all its cache misses in flight
  // at once, and then read again from the cache, instead of missing row by row in the
  // products.
  void assign_rows(const SparsePixels& from, const std::vector<std::int64_t>& rows);
  // No rows any more (the storage kept for the next rows), of the same columns and scale.
  void clear();
  // Appends one row from its non-zero entries: `count` columns `index`, increasing and
  // each below cols(), and their pixels `value`, none 0. ValueError naming the entry for
  // others.
  void append_row(const std::uint16_t* index, const std::uint8_t* value, std::int64_t count);

  std::int64_t rows() const { return static_cast<std::int64_t>(row_begin_.size()) - 1; }
  std::int64_t cols() const { return cols_; }
  std::int64_t nonzeros() const { return static_cast<std::int64_t>(index_.size()); }
  float scale() const { return scale_; }
  // Entries of row r are [row_begin(r), row_begin(r + 1)).
  std::int64_t row_begin(std::int64_t r) const { return row_begin_[static_cast<std::size_t>(r)]; }
  const std::uint16_t* index() const { return index_.data(); }  // column of each entry
  const std::uint8_t* value() const { return value_.data(); }   // pixel of each entry

 private:
  std::int64_t cols_ = 0;
  float scale_ = 1;
  std::vector<std::int64_t> row_begin_{0};
  LargeVector<std::uint16_t> index_;
  LargeVector<std::uint8_t> value_;
};

}  // namespace nabla
NABLA_API_END
