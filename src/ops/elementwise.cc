// Elementwise ops: forward and backward of each side by side.
#include <cmath>

#include "nabla/ops/ops.h"
#include "ops/tensor_loops.h"

namespace nabla {

using kernels::broadcast_zip;
using kernels::map;
using kernels::zip;

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    std::int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    std::int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      throw ShapeError(std::string(op) + ": " + shape_str(a) + " vs " + shape_str(b) +
                       ": shapes cannot be broadcast together");
    }
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  Shape full = broadcast_shapes(t.shape(), shape, "sum_to");
  if (full != t.shape()) {
    throw ShapeError("sum_to: " + shape_str(t.shape()) + " cannot be reduced to " +
                     shape_str(shape));
  }
  Tensor out(shape, t.dtype());
  visit_dtype(t.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pt = t.data<T>();
    T* po = out.data<T>();
    kernels::for_each_broadcast(
        full, full, shape, [&](std::int64_t i, std::int64_t, std::int64_t io) { po[io] += pt[i]; });
  });
  return out;
}

// ---- Tensor-level ------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) {
  return broadcast_zip(a, b, "add", [](auto x, auto y) { return x + y; });
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return broadcast_zip(a, b, "sub", [](auto x, auto y) { return x - y; });
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return broadcast_zip(a, b, "mul", [](auto x, auto y) { return x * y; });
}
Tensor div(const Tensor& a, const Tensor& b) {
  return broadcast_zip(a, b, "div", [](auto x, auto y) { return x / y; });
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return broadcast_zip(a, b, "maximum", [](auto x, auto y) { return x >= y ? x : y; });
}
Tensor neg(const Tensor& a) {
  return map(a, "neg", [](auto x) { return -x; });
}
Tensor exp(const Tensor& a) {
  return map(a, "exp", [](auto x) { return std::exp(x); });
}
Tensor log(const Tensor& a) {
  return map(a, "log", [](auto x) { return std::log(x); });
}
Tensor pow(const Tensor& a, double p) {
  return map(a, "pow", [p](auto x) { return std::pow(static_cast<double>(x), p); });
}
Tensor square(const Tensor& a) {
  return map(a, "square", [](auto x) { return x * x; });
}
Tensor scale(const Tensor& a, double s) {
  return map(a, "scale", [s](auto x) { return static_cast<double>(x) * s; });
}
Tensor add_scalar(const Tensor& a, double s) {
  return map(a, "add_scalar", [s](auto x) { return static_cast<double>(x) + s; });
}
Tensor relu(const Tensor& a) {
  return map(a, "relu", [](auto x) { return x > 0 ? x : decltype(x){0}; });
}
Tensor sigmoid(const Tensor& a) {
  return map(a, "sigmoid", [](auto x) { return decltype(x){1} / (decltype(x){1} + std::exp(-x)); });
}
Tensor tanh(const Tensor& a) {
  return map(a, "tanh", [](auto x) { return std::tanh(x); });
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  kernels::check_same_shape(a, b, "max_abs_diff");
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.get(i) - b.get(i)));
  return m;
}

bool all_finite(const Tensor& a) { return first_non_finite(a) < 0; }

std::int64_t first_non_finite(const Tensor& a) {
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    if (!std::isfinite(a.get(i))) return i;
  }
  return -1;
}

// ---- Var-level: forward, then the local derivative times dout -----------------------

Var add(const Var& a, const Var& b) {
  return record("add", add(a.value(), b.value()), {a, b}, [a, b](const Tensor& dout) {
    // gradient distributor: dout flows unchanged to both inputs
    accumulate_grad(a, sum_to(dout, a.shape()), "add");
    accumulate_grad(b, sum_to(dout, b.shape()), "add");
  });
}

Var sub(const Var& a, const Var& b) {
  return record("sub", sub(a.value(), b.value()), {a, b}, [a, b](const Tensor& dout) {
    accumulate_grad(a, sum_to(dout, a.shape()), "sub");
    accumulate_grad(b, neg(sum_to(dout, b.shape())), "sub");
  });
}

Var mul(const Var& a, const Var& b) {
  return record("mul", mul(a.value(), b.value()), {a, b}, [a, b](const Tensor& dout) {
    // gradient switcher: each input gets dout times the *other* input
    accumulate_grad(a, sum_to(mul(dout, b.value()), a.shape()), "mul");
    accumulate_grad(b, sum_to(mul(dout, a.value()), b.shape()), "mul");
  });
}

Var div(const Var& a, const Var& b) {
  return record("div", div(a.value(), b.value()), {a, b}, [a, b](const Tensor& dout) {
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
    accumulate_grad(a, sum_to(div(dout, b.value()), a.shape()), "div");
    Tensor db = neg(div(mul(dout, a.value()), square(b.value())));
    accumulate_grad(b, sum_to(db, b.shape()), "div");
  });
}

Var maximum(const Var& a, const Var& b) {
  return record("maximum", maximum(a.value(), b.value()), {a, b}, [a, b](const Tensor& dout) {
    // gradient router: dout goes to whichever input was larger (a on ties)
    Tensor a_won = broadcast_zip(a.value(), b.value(), "maximum",
                                 [](auto x, auto y) { return x >= y ? 1 : 0; });
    Tensor da = mul(dout, a_won);
    accumulate_grad(a, sum_to(da, a.shape()), "maximum");
    accumulate_grad(b, sum_to(sub(dout, da), b.shape()), "maximum");
  });
}

Var neg(const Var& a) {
  return record("neg", neg(a.value()), {a},
                [a](const Tensor& dout) { accumulate_grad(a, neg(dout), "neg"); });
}

Var exp(const Var& a) {
  Tensor y = exp(a.value());
  return record("exp", y, {a}, [a, y](const Tensor& dout) {
    accumulate_grad(a, mul(dout, y), "exp");  // d(exp x) = exp x
  });
}

Var log(const Var& a) {
  return record("log", log(a.value()), {a}, [a](const Tensor& dout) {
    accumulate_grad(a, div(dout, a.value()), "log");  // d(log x) = 1/x
  });
}

Var pow(const Var& a, double p) {
  return record("pow", pow(a.value(), p), {a}, [a, p](const Tensor& dout) {
    // d(x^p) = p x^(p-1)
    Tensor local =
        map(a.value(), "pow", [p](auto x) { return p * std::pow(static_cast<double>(x), p - 1); });
    accumulate_grad(a, mul(dout, local), "pow");
  });
}

Var square(const Var& a) {
  return record("square", square(a.value()), {a}, [a](const Tensor& dout) {
    accumulate_grad(a, zip(dout, a.value(), "square", [](auto d, auto x) { return 2 * x * d; }),
                    "square");
  });
}

Var scale(const Var& a, double s) {
  return record("scale", scale(a.value(), s), {a}, [a, s](const Tensor& dout) {
    accumulate_grad(a, scale(dout, s), "scale");  // d(s x) = s
  });
}

Var add_scalar(const Var& a, double s) {
  return record("add_scalar", add_scalar(a.value(), s), {a}, [a](const Tensor& dout) {
    accumulate_grad(a, dout, "add_scalar");  // d(c + x) = 1
  });
}

Var reciprocal(const Var& a) {
  Tensor y = map(a.value(), "reciprocal", [](auto x) { return decltype(x){1} / x; });
  return record("reciprocal", y, {a}, [a, y](const Tensor& dout) {
    // d(1/x) = -1/x^2 = -y^2
    accumulate_grad(a, zip(dout, y, "reciprocal", [](auto d, auto v) { return -d * v * v; }),
                    "reciprocal");
  });
}

// relu, sigmoid and tanh as graph nodes are their layers (src/layers/activations.cc).

}  // namespace nabla
