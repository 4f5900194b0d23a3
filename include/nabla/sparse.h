// nabla/sparse.h — rows of mostly-zero pixels, stored by their non-zero entries.
//
// MNIST images are about 81% zeros. The first layer's products Y = X.W and
// dW = X^T.dY only need the non-zero pixels, so a batch taken straight from the uint8
// images in this form costs about a fifth of the dense product (Affine's sparse path).
//
//   SparsePixels pixels = SparsePixels::from_dataset(mnist.train);   // once, ~3 bytes/pixel
//   SparseBatch batch{&pixels, {17, 4, 42}};                         // rows by index, no copy
//   Tensor scores = net.predict(batch);
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/mnist.h"
#include "nabla/tensor.h"
#include "nabla/workers.h"

namespace nabla {

class SparsePixels {
 public:
  SparsePixels() = default;
  // `rows` x `cols` uint8 pixels (row-major); each value is pixel * scale.
  SparsePixels(const std::uint8_t* pixels, std::int64_t rows, std::int64_t cols, float scale);
  // All images of a dataset, scaled to [0, 1].
  static SparsePixels from_dataset(const Dataset& data);

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
  std::vector<std::uint16_t> index_;
  std::vector<std::uint8_t> value_;
};

// A batch of rows of a SparsePixels, by index (the rows are not copied).
struct SparseBatch {
  const SparsePixels* pixels = nullptr;
  std::vector<std::int64_t> rows;

  std::int64_t size() const { return static_cast<std::int64_t>(rows.size()); }
  // The batch as a dense (size, cols) tensor.
  Tensor to_dense(DType dtype = DType::f32) const;
};

// y (N, M) += X (N, D) . W (D, M) for the batch X; W float32. The rows of the batch are
// split over the workers, if given.
void sparse_matmul(const SparseBatch& x, const Tensor& W, Tensor& y, Workers* workers = nullptr);
// dW (D, M) += X^T (D, N) . dY (N, M). `workspace` is scratch space the caller keeps
// between calls (so that the steady state allocates nothing); each worker accumulates
// its share of the batch there, then the shares are added into dW.
void sparse_matmul_tn(const SparseBatch& x, const Tensor& dY, Tensor& dW, Tensor& workspace,
                      Workers* workers = nullptr);
// The same two products by plain loops: the reference the fast kernels are tested against.
void sparse_matmul_reference(const SparseBatch& x, const Tensor& W, Tensor& y);
void sparse_matmul_tn_reference(const SparseBatch& x, const Tensor& dY, Tensor& dW);

}  // namespace nabla
