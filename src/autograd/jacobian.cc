#include "nabla/autograd/jacobian.h"

#include <string>

namespace nabla {

namespace {

Var checked_call(const VectorFunction& f, const Var& x, const char* fn) {
  Var y = f(x);
  if (!y.defined()) throw ValueError(std::string(fn) + ": the function returned no value");
  if (y.value().numel() == 0 || x.value().numel() == 0) {
    throw ShapeError(std::string(fn) + ": input " + shape_str(x.shape()) + " and output " +
                     shape_str(y.shape()) + " must both have elements");
  }
  return y;
}

}  // namespace

Tensor jacobian(const VectorFunction& f, const Tensor& x) {
  Var input = Var::parameter(x, "x");
  Var y = checked_call(f, input, "jacobian");
  const std::int64_t m = y.value().numel(), n = x.numel();
  Tensor J({m, n}, x.dtype());
  std::vector<std::shared_ptr<Node>> order = topological_order(y);
  for (std::int64_t i = 0; i < m; ++i) {
    // A fresh pass: gradients accumulate, so every node of the graph starts from none.
    for (const auto& node : order) node->grad = Tensor();
    Tensor unit(y.shape(), y.dtype());
    unit.set(i, 1.0);
    y.backward(unit);
    const Tensor& row = input.grad();  // zeros where x does not reach y_i
    for (std::int64_t j = 0; j < n; ++j) J.set(i * n + j, row.get(j));
  }
  return J;
}

Tensor numerical_jacobian(const VectorFunction& f, const Tensor& x, double h) {
  auto value_at = [&](const Tensor& point) {
    return checked_call(f, Var::constant(point), "numerical_jacobian").value();
  };
  const std::int64_t m = value_at(x).numel(), n = x.numel();
  Tensor J({m, n}, x.dtype());
  Tensor point = x;  // a copy (Tensor has value semantics)
  for (std::int64_t j = 0; j < n; ++j) {
    const double old = point.get(j);
    point.set(j, old + h);
    Tensor plus = value_at(point);
    point.set(j, old - h);
    Tensor minus = value_at(point);
    point.set(j, old);
    for (std::int64_t i = 0; i < m; ++i) {
      J.set(i * n + j, (plus.get(i) - minus.get(i)) / (2 * h));
    }
  }
  return J;
}

}  // namespace nabla
