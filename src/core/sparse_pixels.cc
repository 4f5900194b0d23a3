// Rows of mostly-zero pixels, compressed to their non-zero entries.
#include "nabla/core/sparse_pixels.h"
#include "nabla/detail/workers.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <string>

#include "kernels/kernels.h"

namespace nabla {

SparsePixels::SparsePixels(const std::uint8_t* pixels, std::int64_t rows, std::int64_t cols,
                           float scale)
    : cols_(cols), scale_(scale) {
  if (cols > std::numeric_limits<std::uint16_t>::max() + 1) {
    throw ValueError("SparsePixels: " + std::to_string(cols) + " columns; at most 65536");
  }
  append_rows(pixels, rows);
}

// Fewer rows than this are compressed on one thread (waking another would cost more).
constexpr std::int64_t kMinRowsToSplit = 4096;

SparsePixels::SparsePixels(std::int64_t cols, float scale) : cols_(cols), scale_(scale) {
  if (cols < 0 || cols > std::numeric_limits<std::uint16_t>::max() + 1) {
    throw ValueError("SparsePixels: " + std::to_string(cols) + " columns; expected 0 to 65536");
  }
}

void SparsePixels::reserve(std::int64_t rows, std::int64_t entries) {
  row_begin_.reserve(static_cast<std::size_t>(rows) + 1);
  index_.reserve(static_cast<std::size_t>(entries));
  value_.reserve(static_cast<std::size_t>(entries));
}

void SparsePixels::append_rows(const std::uint8_t* pixels, std::int64_t rows) {
  // Two passes: count each row's non-zeros, then compress the rows into arrays grown by
  // exactly that much. The arrays' new elements are not written before the rows are
  // (LargeVector), so with workers each part's pages are first touched by its own thread.
  const auto first = static_cast<std::size_t>(this->rows());
  row_begin_.resize(first + 1 + static_cast<std::size_t>(rows));
  std::int64_t* begin = row_begin_.data() + first;  // begin[r]: where row first + r starts
  auto parts = [&](const std::function<void(std::int64_t, std::int64_t)>& f) {
    Workers* workers = current_workers();
    if (workers != nullptr && rows >= kMinRowsToSplit) {
      workers->run([&](int part, int n) {
        auto [r0, r1] = part_range(rows, part, n);
        f(r0, r1);
      });
    } else {
      f(0, rows);
    }
  };
  const kernels::Table& k = kernels::active();
  parts([&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      begin[r + 1] = k.count_nonzeros(pixels + r * cols_, cols_);
    }
  });
  for (std::int64_t r = 0; r < rows; ++r) begin[r + 1] += begin[r];
  index_.resize(static_cast<std::size_t>(begin[rows]));
  value_.resize(static_cast<std::size_t>(begin[rows]));
  parts([&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      k.compress_row(pixels + r * cols_, cols_, index_.data() + begin[r], value_.data() + begin[r]);
    }
  });
}

void SparsePixels::assign_rows(const SparsePixels& from, const std::vector<std::int64_t>& rows) {
  cols_ = from.cols_;
  scale_ = from.scale_;
  row_begin_.resize(rows.size() + 1);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t r = rows[i];
    if (r < 0 || r >= from.rows()) {
      throw ValueError("SparsePixels::assign_rows: row " + std::to_string(r) + " outside [0, " +
                       std::to_string(from.rows()) + ")");
    }
    row_begin_[i] = total;
    total += from.row_begin(r + 1) - from.row_begin(r);
  }
  row_begin_[rows.size()] = total;
  index_.resize(static_cast<std::size_t>(total));
  value_.resize(static_cast<std::size_t>(total));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t b = from.row_begin(rows[i]), n = from.row_begin(rows[i] + 1) - b;
    std::copy_n(from.index_.data() + b, n, index_.data() + row_begin_[i]);
    std::copy_n(from.value_.data() + b, n, value_.data() + row_begin_[i]);
  }
}

void SparsePixels::clear() {
  row_begin_.assign(1, 0);
  index_.clear();
  value_.clear();
}

void SparsePixels::append_row(const std::uint16_t* index, const std::uint8_t* value,
                              std::int64_t count) {
  for (std::int64_t k = 0; k < count; ++k) {
    if (index[k] >= cols_ || (k > 0 && index[k] <= index[k - 1]) || value[k] == 0) {
      throw ValueError("SparsePixels::append_row: entry " + std::to_string(k) + " (column " +
                       std::to_string(index[k]) + ", pixel " + std::to_string(value[k]) +
                       ") is not a non-zero pixel in a column after the last, below " +
                       std::to_string(cols_));
    }
  }
  index_.insert(index_.end(), index, index + count);
  value_.insert(value_.end(), value, value + count);
  row_begin_.push_back(row_begin_.back() + count);
}

}  // namespace nabla
