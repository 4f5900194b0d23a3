// gather_rows and concat: forward and backward.
#include "nabla/ops/indexing.h"

#include <cstring>
#include <string>

#include "nabla/ops/ops.h"

namespace nabla {

Var gather_rows(const Var& table, const std::vector<std::int64_t>& ids) {
  const Tensor& t = table.value();
  if (t.rank() != 2) {
    throw ShapeError("gather_rows: expected a table (V, d), got " + shape_str(t.shape()));
  }
  const std::int64_t rows = t.size(0), d = t.size(1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= rows) {
      throw ValueError("gather_rows: id " + std::to_string(ids[i]) + " at position " +
                       std::to_string(i) + " is outside the table's rows [0, " +
                       std::to_string(rows) + ")");
    }
  }
  const auto n = static_cast<std::int64_t>(ids.size());
  Tensor out = Tensor::empty({n, d}, t.dtype());
  const std::size_t row_bytes = static_cast<std::size_t>(d) * dtype_size(t.dtype());
  const auto* src = static_cast<const char*>(t.raw());
  auto* dst = static_cast<char*>(out.raw());
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + static_cast<std::size_t>(i) * row_bytes,
                src + static_cast<std::size_t>(ids[static_cast<std::size_t>(i)]) * row_bytes,
                row_bytes);
  }
  return record("gather_rows", std::move(out), {table}, [table, ids, d](const Tensor& dout) {
    // dout (n, d): each row adds into the table row it was read from.
    Tensor dtable(table.shape(), dout.dtype());
    visit_dtype(dout.dtype(), [&](auto type) {
      using T = decltype(type);
      const T* g = dout.data<T>();
      T* acc = dtable.data<T>();
      for (std::size_t i = 0; i < ids.size(); ++i) {
        T* row = acc + ids[i] * d;
        const T* from = g + static_cast<std::int64_t>(i) * d;
        for (std::int64_t j = 0; j < d; ++j) row[j] += from[j];
      }
    });
    accumulate_grad(table, dtable, "gather_rows");
  });
}

namespace {

// A tensor seen as (outer, len * inner) blocks around `axis`.
std::int64_t inner_size(const Shape& s, std::size_t axis) {
  std::int64_t n = 1;
  for (std::size_t k = axis + 1; k < s.size(); ++k) n *= s[k];
  return n;
}

std::int64_t outer_size(const Shape& s, std::size_t axis) {
  std::int64_t n = 1;
  for (std::size_t k = 0; k < axis; ++k) n *= s[k];
  return n;
}

}  // namespace

Var concat(const std::vector<Var>& parts, std::int64_t axis) {
  if (parts.empty()) throw ShapeError("concat: nothing to join");
  const Shape& first = parts[0].shape();
  const auto rank = static_cast<std::int64_t>(first.size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) {
    throw ShapeError("concat: axis out of range for shape " + shape_str(first));
  }
  const auto ax = static_cast<std::size_t>(axis);
  Shape shape = first;
  shape[ax] = 0;
  for (const Var& p : parts) {
    Shape other = p.shape();
    if (other.size() != first.size() || p.dtype() != parts[0].dtype()) {
      throw ShapeError("concat: " + shape_str(first) + " and " + shape_str(other) +
                       " differ in rank or dtype");
    }
    shape[ax] += other[ax];
    other[ax] = first[ax];
    if (other != first) {
      throw ShapeError("concat: " + shape_str(first) + " and " + shape_str(p.shape()) +
                       " differ outside axis " + std::to_string(axis));
    }
  }
  const std::int64_t outer = outer_size(first, ax), inner = inner_size(first, ax);
  const std::size_t elem = dtype_size(parts[0].dtype());
  const std::int64_t out_block = shape[ax] * inner;  // elements of one outer slice
  Tensor out = Tensor::empty(shape, parts[0].dtype());
  auto* dst = static_cast<char*>(out.raw());
  std::int64_t offset = 0;  // where the current part starts within a slice
  std::vector<std::int64_t> offsets;
  for (const Var& p : parts) {
    const std::int64_t block = p.shape()[ax] * inner;
    const auto* src = static_cast<const char*>(p.value().raw());
    for (std::int64_t o = 0; o < outer; ++o) {
      std::memcpy(dst + static_cast<std::size_t>(o * out_block + offset) * elem,
                  src + static_cast<std::size_t>(o * block) * elem,
                  static_cast<std::size_t>(block) * elem);
    }
    offsets.push_back(offset);
    offset += block;
  }
  return record("concat", std::move(out), parts,
                [parts, offsets, outer, out_block, inner, ax, elem](const Tensor& dout) {
                  // Each part's gradient is its own slice of dout.
                  const auto* src = static_cast<const char*>(dout.raw());
                  for (std::size_t i = 0; i < parts.size(); ++i) {
                    if (!parts[i].requires_grad()) continue;
                    const std::int64_t block = parts[i].shape()[ax] * inner;
                    Tensor g = Tensor::empty(parts[i].shape(), dout.dtype());
                    auto* to = static_cast<char*>(g.raw());
                    for (std::int64_t o = 0; o < outer; ++o) {
                      std::memcpy(to + static_cast<std::size_t>(o * block) * elem,
                                  src + static_cast<std::size_t>(o * out_block + offsets[i]) * elem,
                                  static_cast<std::size_t>(block) * elem);
                    }
                    accumulate_grad(parts[i], g, "concat");
                  }
                });
}

}  // namespace nabla
