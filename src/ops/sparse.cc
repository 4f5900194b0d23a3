// Products with sparse pixel rows: only the non-zero pixels contribute.
#include "nabla/ops/sparse.h"
#include "nabla/detail/workers.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>

#include "kernels/kernels.h"

namespace nabla {

Tensor SparseBatch::to_dense(DType dtype) const {
  Tensor x({size(), pixels->cols()}, dtype);
  for (std::int64_t i = 0; i < size(); ++i) {
    std::int64_t r = rows[static_cast<std::size_t>(i)];
    for (std::int64_t e = pixels->row_begin(r); e < pixels->row_begin(r + 1); ++e) {
      x.set(i * pixels->cols() + pixels->index()[e],
            static_cast<double>(pixels->value()[e]) * static_cast<double>(pixels->scale()));
    }
  }
  return x;
}

namespace {

void check_batch(const SparseBatch& x, const char* op) {
  if (x.pixels == nullptr) throw ValueError(std::string(op) + ": batch has no pixels");
  for (std::int64_t r : x.rows) {
    if (r < 0 || r >= x.pixels->rows()) {
      throw ValueError(std::string(op) + ": row " + std::to_string(r) + " outside [0, " +
                       std::to_string(x.pixels->rows()) + ")");
    }
  }
}

void check_inner(const SparseBatch& x, std::int64_t w_rows, const std::string& w_shape,
                 const char* op) {
  if (w_rows != x.pixels->cols()) {
    throw ShapeError(std::string(op) + ": " + shape_str({x.size(), x.pixels->cols()}) + " x " +
                     w_shape + ": inner dimensions differ");
  }
}

void check_other(const Tensor& other, const Shape& shape, const char* op, const char* name) {
  if (other.dtype() != DType::f32) {
    throw ValueError(std::string(op) + ": sparse products are float32; " + name + " is " +
                     dtype_name(other.dtype()));
  }
  if (other.shape() != shape) {
    throw ShapeError(std::string(op) + ": " + name + " is " + shape_str(other.shape()) +
                     ", expected " + shape_str(shape));
  }
}

// x, a matrix W (D, M) float32 and `other` of shape other_shape, float32.
void check(const SparseBatch& x, const Tensor& W, const Tensor& other, const Shape& other_shape,
           const char* op, const char* other_name) {
  check_batch(x, op);
  check_inner(x, W.rank() == 2 ? W.size(0) : -1, shape_str(W.shape()), op);
  if (W.dtype() != DType::f32) {
    throw ValueError(std::string(op) + ": sparse products are float32; W is " +
                     dtype_name(W.dtype()));
  }
  check_other(other, other_shape, op, other_name);
}

// The inner kernels are the kernel layer's (src/kernels/): gather, for one row of the
// batch, y[0:m] += sum over its entries e of v_e * w[c_e, 0:m] on PackedRows; columns, for
// a band of columns c, dw[c, 0:m] += sum over c's entries of v_e * d[r_e, 0:m] on dY with
// its rows padded to whole cache lines.

// pixel -> pixel * scale for all 256 pixel values: one load instead of a conversion.
struct ScaledPixels {
  alignas(64) float of[256];
  explicit ScaledPixels(float scale) {
    for (int p = 0; p < 256; ++p) of[p] = static_cast<float>(p) * scale;
  }
};

kernels::Entries entries_of(const SparsePixels& px, std::int64_t r) {
  return {px.index(), px.value(), px.row_begin(r), px.row_begin(r + 1)};
}

kernels::PackedView view_of(const PackedRows& w) {
  return {w.main(), w.main_cols(), w.tail(), w.tail_cols(), w.tail_stride()};
}

// Rows of a batch are scattered over the data set: start loading a row's entries this
// many rows before it is needed.
constexpr std::int64_t kPrefetchAhead = 1;

// Starts loading row r's entries into the cache while the current row is worked on.
void prefetch_row(const SparsePixels& px, std::int64_t r) {
  const std::int64_t b = px.row_begin(r), n = px.row_begin(r + 1) - b;
  for (std::int64_t e = 0; e < n; e += 32) __builtin_prefetch(px.index() + b + e);
  for (std::int64_t e = 0; e < n; e += 64) __builtin_prefetch(px.value() + b + e);
}

// Below this many rows a part, waking another thread costs more than it saves (measured:
// a 100-row training batch is slower on two threads even on an idle machine, 1.55 s
// against 1.43 s for the recipe; a 2000-row evaluation block is faster, 0.29 s against 0.49).
constexpr std::int64_t kMinRowsPerPart = 256;

Workers* worth_splitting(std::int64_t rows) {
  Workers* workers = current_workers();
  return workers != nullptr && rows >= kMinRowsPerPart * workers->size() ? workers : nullptr;
}

// Calls f(i, row) for the batch's rows [i0, i1), prefetching ahead.
template <class F>
void for_rows(const SparseBatch& x, std::int64_t i0, std::int64_t i1, F&& f) {
  for (std::int64_t i = i0; i < i1; ++i) {
    if (i + kPrefetchAhead < i1) {
      prefetch_row(*x.pixels, x.rows[static_cast<std::size_t>(i + kPrefetchAhead)]);
    }
    f(i, x.rows[static_cast<std::size_t>(i)]);
  }
}

// y (N, M) += x . W, a row at a time by `table`'s gather; the rows split over the workers.
void gather_rows(const kernels::Table& table, const SparseBatch& x, const PackedRows& W,
                 float* out) {
  const std::int64_t m = W.cols();
  const ScaledPixels scaled(x.pixels->scale());
  const kernels::PackedView w = view_of(W);
  auto rows = [&](int part, int parts) {
    auto [i0, i1] = part_range(x.size(), part, parts);
    for_rows(x, i0, i1, [&](std::int64_t i, std::int64_t r) {
      table.gather(entries_of(*x.pixels, r), scaled.of, w, out + i * m);
    });
  };
  if (Workers* split = worth_splitting(x.size())) {
    split->run(rows);
  } else {
    rows(0, 1);
  }
}

// dW (D, M) += x^T . dY by `table`'s column kernel, from the batch by column `cols`, dY
// copied into `padded` with rows of whole cache lines (64-byte aligned; the padding stays
// zero). The workers take bands of rows of dW with about as many non-zeros each.
void columns_product(const kernels::Table& table, const SparseBatch& x, const SparseColumns& cols,
                     const Tensor& dY, Tensor& dW, Tensor& padded) {
  const std::int64_t n = x.size(), m = dW.size(1);
  const std::int64_t stride = (m + 15) / 16 * 16;
  if (padded.shape() != Shape{n, stride}) padded = Tensor::zeros({n, stride}, DType::f32);
  const float* dy = dY.data<float>();
  float* pd = padded.data<float>();
  for (std::int64_t i = 0; i < n; ++i) std::copy_n(dy + i * m, m, pd + i * stride);
  const ScaledPixels scaled(x.pixels->scale());
  float* dw = dW.data<float>();
  auto band = [&](int part, int parts) {
    auto first_with = [&](std::int64_t share) {
      std::int64_t c = 0;
      while (c < cols.cols() && cols.begin(c + 1) <= share) ++c;
      return c;
    };
    const std::int64_t c0 = part == 0 ? 0 : first_with(cols.nonzeros() * part / parts);
    const std::int64_t c1 =
        part == parts - 1 ? cols.cols() : first_with(cols.nonzeros() * (part + 1) / parts);
    table.columns(cols.begins(), cols.entries(), c0, c1, scaled.of, pd, stride, m, dw);
  };
  if (Workers* split = worth_splitting(n)) {
    split->run(band);
  } else {
    band(0, 1);
  }
}

}  // namespace

// ---- PackedRows -----------------------------------------------------------------------

void PackedRows::reshape(std::int64_t rows, std::int64_t cols) {
  if (rows == rows_ && cols == cols_) return;
  rows_ = rows;
  cols_ = cols;
  const std::int64_t tail = cols % 16;
  tail_stride_ = tail == 0 ? 0 : tail <= 4 ? 4 : tail <= 8 ? 8 : 16;
  main_ = main_cols() > 0 ? Tensor({rows, main_cols()}, DType::f32) : Tensor();
  tail_ = tail > 0 ? Tensor({rows, tail_stride_}, DType::f32) : Tensor();  // zero padding
}

void PackedRows::pack(const Tensor& W) {
  if (W.rank() != 2 || W.dtype() != DType::f32) {
    throw ValueError("PackedRows: W is " + shape_str(W.shape()) + " " + dtype_name(W.dtype()) +
                     ", expected a float32 matrix");
  }
  reshape(W.size(0), W.size(1));
  const float* w = W.data<float>();
  const std::int64_t main = main_cols(), tail = tail_cols();
  for (std::int64_t r = 0; r < rows_; ++r) {
    const float* row = w + r * cols_;
    std::copy(row, row + main, this->main() + r * main);
    std::copy(row + main, row + main + tail, this->tail() + r * tail_stride_);
  }
}

// ---- SparseColumns ---------------------------------------------------------------------

void SparseColumns::assign(const SparseBatch& x) {
  check_batch(x, "SparseColumns");
  const SparsePixels& px = *x.pixels;
  if (x.size() >= (std::int64_t{1} << 24)) {
    throw ValueError("SparseColumns: a batch of " + std::to_string(x.size()) +
                     " rows; at most 16777215");
  }
  const auto cols = static_cast<std::size_t>(px.cols());
  const std::uint16_t* index = px.index();
  const std::uint8_t* value = px.value();
  rows_ = x.size();
  // count each column's entries (in begin_[c + 1]), then sum them into starts
  begin_.assign(cols + 1, 0);
  std::int64_t* count = begin_.data() + 1;
  for (std::int64_t r : x.rows) {
    const std::int64_t e0 = px.row_begin(r), e1 = px.row_begin(r + 1);
    for (std::int64_t e = e0; e < e1; ++e) ++count[index[e]];
  }
  for (std::size_t c = 0; c < cols; ++c) begin_[c + 1] += begin_[c];
  next_.assign(begin_.begin(), begin_.end() - 1);
  entries_.resize(static_cast<std::size_t>(begin_.back()));
  std::int64_t* next = next_.data();
  std::uint32_t* entries = entries_.data();
  // place the entries, rows in batch order within each column
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    const std::int64_t e0 = px.row_begin(r), e1 = px.row_begin(r + 1);
    const auto row = static_cast<std::uint32_t>(i) << 8;
    for (std::int64_t e = e0; e < e1; ++e) entries[next[index[e]]++] = row | value[e];
  }
}

// ---- the products ---------------------------------------------------------------------

void sparse_matmul(const SparseBatch& x, const Tensor& W, Tensor& y) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  PackedRows packed;
  packed.pack(W);
  sparse_matmul(x, packed, y);
}

void sparse_matmul(const SparseBatch& x, const PackedRows& W, Tensor& y) {
  check_batch(x, "sparse_matmul");
  check_inner(x, W.rows(), shape_str({W.rows(), W.cols()}), "sparse_matmul");
  check_other(y, {x.size(), W.cols()}, "sparse_matmul", "output");
  gather_rows(kernels::active(), x, W, y.data<float>());
}

void sparse_matmul_tn(const SparseBatch& x, const Tensor& dY, Tensor& dW,
                      SparseWorkspace& workspace) {
  const std::int64_t m = dW.rank() == 2 ? dW.size(1) : 0;
  check(x, dW, dY, {x.size(), m}, "sparse_matmul_tn", "dY");
  const std::int64_t n = x.size();
  if (n == 0 || m == 0) return;
  const SparseColumns& cols = x.columns != nullptr ? *x.columns : workspace.columns;
  if (x.columns == nullptr) {
    workspace.columns.assign(x);
  } else {
    std::int64_t nonzeros = 0;
    for (std::int64_t r : x.rows) nonzeros += x.pixels->row_begin(r + 1) - x.pixels->row_begin(r);
    if (cols.rows() != n || cols.cols() != x.pixels->cols() || cols.nonzeros() != nonzeros) {
      throw ValueError("sparse_matmul_tn: the batch's columns are of another batch (" +
                       std::to_string(cols.rows()) + " rows, " + std::to_string(cols.cols()) +
                       " columns, " + std::to_string(cols.nonzeros()) +
                       " non-zeros; the batch has " + std::to_string(n) + ", " +
                       std::to_string(x.pixels->cols()) + ", " + std::to_string(nonzeros) + ")");
    }
  }
  columns_product(kernels::active(), x, cols, dY, dW, workspace.padded_dY);
}

// The references: the same products by the scalar kernels, on one thread.

void sparse_matmul_reference(const SparseBatch& x, const Tensor& W, Tensor& y) {
  const std::int64_t m = W.rank() == 2 ? W.size(1) : 0;
  check(x, W, y, {x.size(), m}, "sparse_matmul", "output");
  PackedRows packed;
  packed.pack(W);
  ThreadScope one_thread(nullptr);
  gather_rows(kernels::scalar_table(), x, packed, y.data<float>());
}

void sparse_matmul_tn_reference(const SparseBatch& x, const Tensor& dY, Tensor& dW) {
  const std::int64_t m = dW.rank() == 2 ? dW.size(1) : 0;
  check(x, dW, dY, {x.size(), m}, "sparse_matmul_tn", "dY");
  if (x.size() == 0 || m == 0) return;
  SparseColumns cols;
  cols.assign(x);
  Tensor padded;
  ThreadScope one_thread(nullptr);
  columns_product(kernels::scalar_table(), x, cols, dY, dW, padded);
}

}  // namespace nabla
