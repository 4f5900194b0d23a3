// Reductions and shape ops: sum, mean, max, softmax, reshape, transpose.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "kernels/kernels.h"
#include "nabla/ops/ops.h"
#include "ops/tensor_loops.h"

namespace nabla {

namespace {

std::int64_t normalize_axis(const Tensor& a, std::int64_t axis, const char* op) {
  std::int64_t r = a.rank();
  std::int64_t ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) {
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) +
                     " out of range for shape " + shape_str(a.shape()));
  }
  return ax;
}

// A tensor seen as (outer, len, inner) around `axis`.
struct AxisView {
  std::int64_t outer = 1, len = 1, inner = 1;
  Shape reduced;  // shape without the axis
};

AxisView axis_view(const Tensor& a, std::int64_t axis) {
  AxisView v;
  for (std::int64_t i = 0; i < a.rank(); ++i) {
    std::int64_t d = a.shape()[static_cast<std::size_t>(i)];
    if (i < axis) v.outer *= d;
    if (i == axis) v.len = d;
    if (i > axis) v.inner *= d;
    if (i != axis) v.reduced.push_back(d);
  }
  return v;
}

// out (shape of a) with out[o, k, i] = g[o, i]: a reduced gradient spread back over axis.
Tensor expand_along(const Tensor& g, const Tensor& a, std::int64_t axis, double factor) {
  AxisView v = axis_view(a, axis);
  Tensor out(a.shape(), a.dtype());
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t k = 0; k < v.len; ++k)
        for (std::int64_t i = 0; i < v.inner; ++i)
          po[(o * v.len + k) * v.inner + i] = static_cast<T>(pg[o * v.inner + i] * factor);
  });
  return out;
}

// Flat index (into a) of the first maximum along axis, for each reduced position.
std::vector<std::int64_t> argmax_along(const Tensor& a, std::int64_t axis) {
  AxisView v = axis_view(a, axis);
  if (v.len == 0) throw ShapeError("max: empty axis in shape " + shape_str(a.shape()));
  std::vector<std::int64_t> idx(static_cast<std::size_t>(v.outer * v.inner));
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        std::int64_t best = o * v.len * v.inner + i;
        for (std::int64_t k = 1; k < v.len; ++k) {
          std::int64_t at = (o * v.len + k) * v.inner + i;
          if (pa[at] > pa[best]) best = at;
        }
        idx[static_cast<std::size_t>(o * v.inner + i)] = best;
      }
  });
  return idx;
}

}  // namespace

// ---- Tensor-level ------------------------------------------------------------------

Tensor sum(const Tensor& a) {
  check_floating(a, "sum");
  double s = 0;
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* p = a.data<T>();
    for (std::int64_t i = 0; i < a.numel(); ++i) s += static_cast<double>(p[i]);
  });
  return Tensor::scalar(s, a.dtype());
}

Tensor sum(const Tensor& a, std::int64_t axis) {
  std::int64_t ax = normalize_axis(a, axis, "sum");
  AxisView v = axis_view(a, ax);
  Tensor out(v.reduced, a.dtype());
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t k = 0; k < v.len; ++k)
        for (std::int64_t i = 0; i < v.inner; ++i)
          po[o * v.inner + i] += pa[(o * v.len + k) * v.inner + i];
  });
  return out;
}

Tensor mean(const Tensor& a) {
  if (a.numel() == 0) throw ShapeError("mean: empty tensor " + shape_str(a.shape()));
  return scale(sum(a), 1.0 / static_cast<double>(a.numel()));
}

Tensor mean(const Tensor& a, std::int64_t axis) {
  std::int64_t n = a.size(normalize_axis(a, axis, "mean"));
  if (n == 0) throw ShapeError("mean: empty axis in shape " + shape_str(a.shape()));
  return scale(sum(a, axis), 1.0 / static_cast<double>(n));
}

Tensor max(const Tensor& a) {
  if (a.numel() == 0) throw ShapeError("max: empty tensor " + shape_str(a.shape()));
  double m = a.get(0);
  for (std::int64_t i = 1; i < a.numel(); ++i) m = std::max(m, a.get(i));
  return Tensor::scalar(m, a.dtype());
}

Tensor max(const Tensor& a, std::int64_t axis) {
  std::int64_t ax = normalize_axis(a, axis, "max");
  std::vector<std::int64_t> idx = argmax_along(a, ax);
  Tensor out(axis_view(a, ax).reduced, a.dtype());
  for (std::size_t i = 0; i < idx.size(); ++i) out.set(static_cast<std::int64_t>(i), a.get(idx[i]));
  return out;
}

std::vector<std::int64_t> argmax_rows(const Tensor& a) {
  if (a.rank() != 2) {
    throw ShapeError("argmax_rows: expected a 2-d tensor, got " + shape_str(a.shape()));
  }
  std::vector<std::int64_t> flat = argmax_along(a, 1);
  std::int64_t cols = a.shape()[1];
  for (std::size_t r = 0; r < flat.size(); ++r) flat[r] -= static_cast<std::int64_t>(r) * cols;
  return flat;
}

std::int64_t count_correct(const Tensor& scores, const std::vector<std::int64_t>& labels,
                           const char* op) {
  std::vector<std::int64_t> predicted = argmax_rows(scores);
  if (predicted.size() != labels.size()) {
    throw ValueError(std::string(op) + ": " + std::to_string(labels.size()) +
                     " labels for a batch of " + std::to_string(predicted.size()));
  }
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i] ? 1 : 0;
  return correct;
}

double accuracy(const Tensor& scores, const std::vector<std::int64_t>& labels, const char* op) {
  const std::int64_t correct = count_correct(scores, labels, op);
  if (labels.empty()) throw ValueError(std::string(op) + ": empty batch");
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

Tensor transpose(const Tensor& a) {
  if (a.rank() != 2) {
    throw ShapeError("transpose: expected a 2-d tensor, got " + shape_str(a.shape()));
  }
  std::int64_t rows = a.shape()[0], cols = a.shape()[1];
  Tensor out({cols, rows}, a.dtype());
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < cols; ++c) po[c * rows + r] = pa[r * cols + c];
  });
  return out;
}

Tensor softmax(const Tensor& a) {
  if (a.rank() != 1 && a.rank() != 2) {
    throw ShapeError("softmax: expected a vector or a 2-d batch, got " + shape_str(a.shape()));
  }
  std::int64_t cols = a.shape().back();
  std::int64_t rows = cols == 0 ? 0 : a.numel() / cols;
  Tensor out(a.shape(), a.dtype());
  visit_dtype(a.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    // the one softmax row of the library (the kernel layer's; SoftmaxWithLoss uses it too)
    const kernels::Table& k = kernels::active();
    for (std::int64_t r = 0; r < rows; ++r) {
      if constexpr (std::is_same_v<T, float>) {
        k.softmax_row_f32(pa + r * cols, cols, po + r * cols);
      } else {
        k.softmax_row_f64(pa + r * cols, cols, po + r * cols);
      }
    }
  });
  return out;
}

// ---- Var-level ---------------------------------------------------------------------

Var sum(const Var& a) {
  return record("sum", sum(a.value()), {a}, [a](const Tensor& dout) {
    accumulate_grad(a, Tensor::full(a.shape(), dout.item(), a.dtype()), "sum");
  });
}

Var sum(const Var& a, std::int64_t axis) {
  std::int64_t ax = normalize_axis(a.value(), axis, "sum");
  return record("sum", sum(a.value(), ax), {a}, [a, ax](const Tensor& dout) {
    accumulate_grad(a, expand_along(dout, a.value(), ax, 1.0), "sum");
  });
}

Var mean(const Var& a) {
  double n = static_cast<double>(a.value().numel());
  return record("mean", mean(a.value()), {a}, [a, n](const Tensor& dout) {
    accumulate_grad(a, Tensor::full(a.shape(), dout.item() / n, a.dtype()), "mean");
  });
}

Var mean(const Var& a, std::int64_t axis) {
  std::int64_t ax = normalize_axis(a.value(), axis, "mean");
  double n = static_cast<double>(a.value().size(ax));
  return record("mean", mean(a.value(), ax), {a}, [a, ax, n](const Tensor& dout) {
    accumulate_grad(a, expand_along(dout, a.value(), ax, 1.0 / n), "mean");
  });
}

Var max(const Var& a) {
  Tensor y = max(a.value());
  return record("max", y, {a}, [a](const Tensor& dout) {
    // gradient router: all of dout goes to the first maximal element
    const Tensor& x = a.value();
    std::int64_t best = 0;
    for (std::int64_t i = 1; i < x.numel(); ++i)
      if (x.get(i) > x.get(best)) best = i;
    Tensor g(a.shape(), a.dtype());
    g.set(best, dout.item());
    accumulate_grad(a, g, "max");
  });
}

Var max(const Var& a, std::int64_t axis) {
  std::int64_t ax = normalize_axis(a.value(), axis, "max");
  return record("max", max(a.value(), ax), {a}, [a, ax](const Tensor& dout) {
    std::vector<std::int64_t> idx = argmax_along(a.value(), ax);
    Tensor g(a.shape(), a.dtype());
    for (std::size_t i = 0; i < idx.size(); ++i)
      g.set(idx[i], dout.get(static_cast<std::int64_t>(i)));
    accumulate_grad(a, g, "max");
  });
}

Var reshape(const Var& a, Shape shape) {
  return record("reshape", a.value().reshape(std::move(shape)), {a}, [a](const Tensor& dout) {
    accumulate_grad(a, dout.reshape(a.shape()), "reshape");
  });
}

Var transpose(const Var& a) {
  return record("transpose", transpose(a.value()), {a},
                [a](const Tensor& dout) { accumulate_grad(a, transpose(dout), "transpose"); });
}

// softmax as a graph node is the Softmax layer (src/layers/softmax.cc).

}  // namespace nabla
