// nabla/ops/sparse.h — products with rows of mostly-zero pixels (core/sparse_pixels.h).
//
// MNIST images are about 81% zeros. The first layer's products Y = X.W and
// dW = X^T.dY only need the non-zero pixels, so a batch taken straight from the uint8
// images in this form costs about a fifth of the dense product (Affine's sparse path).
//
//   SparsePixels pixels = sparse_pixels(mnist.train);                // once, ~3 bytes/pixel
//   SparseBatch batch{&pixels, {17, 4, 42}};                         // rows by index, no copy
//   Tensor scores = net.predict(batch);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/sparse_pixels.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

class SparseColumns;

// A batch of rows of a SparsePixels, by index (the rows are not copied).
struct SparseBatch {
  const SparsePixels* pixels = nullptr;
  std::vector<std::int64_t> rows;
  // The same batch by column, when it was made beforehand (by a BatchPrefetcher, on
  // another thread); otherwise the weight gradient makes it.
  const SparseColumns* columns = nullptr;

  std::int64_t size() const { return static_cast<std::int64_t>(rows.size()); }
  // The batch as a dense (size, cols) tensor.
  Tensor to_dense(DType dtype = DType::f32) const;
};

// A (D, M) float32 matrix laid out for the sparse kernels, which read or update whole rows
// picked by pixel: the first M - M % 16 columns of each row in whole 64-byte cache lines
// (rows 64-byte aligned, so that no load or store straddles two lines), the last M % 16
// in a second array whose rows are a power of two wide (so that they never straddle one
// either). For M = 50, a row of W is 3 lines plus 8 bytes instead of 4 to 5 lines with
// most loads split: the forward's loads from L2 halve.
class PackedRows {
 public:
  // A copy of W (D, M), float32; the storage is reused when the shape stays.
  void pack(const Tensor& W);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t main_cols() const { return cols_ / 16 * 16; }  // also the row stride of main()
  std::int64_t tail_cols() const { return cols_ % 16; }
  std::int64_t tail_stride() const { return tail_stride_; }
  float* main() { return main_.data<float>(); }
  const float* main() const { return main_.data<float>(); }
  float* tail() { return tail_.data<float>(); }
  const float* tail() const { return tail_.data<float>(); }

 private:
  void reshape(std::int64_t rows, std::int64_t cols);

  std::int64_t rows_ = 0, cols_ = 0, tail_stride_ = 0;
  Tensor main_;  // (rows, main_cols), or undefined when main_cols is 0
  Tensor tail_;  // (rows, tail_stride), or undefined when tail_cols is 0
};

// A batch by column: for each column (pixel) c, the batch rows that have it, in order, and
// their pixels. The weight gradient dW = X^T.dY reads the batch so: row c of dW is
// sum over those rows of pixel * dY[row], summed in registers and written once, instead
// of one read-modify-write of the row for every non-zero.
class SparseColumns {
 public:
  // The columns of batch x (a counting sort of its entries; storage reused).
  void assign(const SparseBatch& x);

  std::int64_t rows() const { return rows_; }  // of the batch
  std::int64_t cols() const { return static_cast<std::int64_t>(begin_.size()) - 1; }
  std::int64_t nonzeros() const { return begin_.back(); }
  // Entries of column c are [begin(c), begin(c + 1)).
  std::int64_t begin(std::int64_t c) const { return begin_[static_cast<std::size_t>(c)]; }
  const std::int64_t* begins() const { return begin_.data(); }  // begin(c) for c in [0, cols]
  // Each entry is row << 8 | pixel (a batch has fewer than 2^24 rows).
  const std::uint32_t* entries() const { return entries_.data(); }

 private:
  std::int64_t rows_ = 0;
  std::vector<std::int64_t> begin_{0};
  std::vector<std::int64_t> next_;  // where each column's next entry goes, while sorting
  std::vector<std::uint32_t> entries_;
};

// Scratch space of sparse_matmul_tn that the caller keeps between calls, so that the
// steady state allocates nothing: the batch by column, and dY with its rows padded to
// whole vectors.
struct SparseWorkspace {
  SparseColumns columns;
  Tensor padded_dY;
};

// y (N, M) += X (N, D) . W (D, M) for the batch X; W float32. The rows of the batch are
// split over the current workers, if any. The first form packs W on every call; a caller that
// multiplies by the same W several times packs it once.
void sparse_matmul(const SparseBatch& x, const Tensor& W, Tensor& y);
void sparse_matmul(const SparseBatch& x, const PackedRows& W, Tensor& y);
// dW (D, M) += X^T (D, N) . dY (N, M), a row of dW at a time from the batch by column
// (x.columns if given, else made in the workspace). The current workers take bands of rows of dW
// with about as many non-zeros each.
void sparse_matmul_tn(const SparseBatch& x, const Tensor& dY, Tensor& dW,
                      SparseWorkspace& workspace);
// The same two products by plain loops: the reference the fast kernels are tested against.
void sparse_matmul_reference(const SparseBatch& x, const Tensor& W, Tensor& y);
void sparse_matmul_tn_reference(const SparseBatch& x, const Tensor& dY, Tensor& dW);

}  // namespace nabla
NABLA_API_END
