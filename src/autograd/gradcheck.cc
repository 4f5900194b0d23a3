// Numerical gradients by central differences, and their comparison with backprop.
#include "nabla/autograd/gradcheck.h"

#include <algorithm>
#include <cmath>

namespace nabla {

Tensor numerical_gradient(const std::function<double()>& f, Tensor& x, double h) {
  Tensor grad(x.shape(), x.dtype());
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const double original = x.get(i);
    x.set(i, original + h);
    const double x_plus = x.get(i);  // as stored: float32 rounds the step
    const double f_plus = f();
    x.set(i, original - h);
    const double x_minus = x.get(i);
    const double f_minus = f();
    x.set(i, original);
    // (f(x + h) - f(x - h)) / 2h, with the step actually taken
    grad.set(i, (f_plus - f_minus) / (x_plus - x_minus));
  }
  return grad;
}

double GradCheckReport::max_rel_error() const {
  double m = 0;
  for (const ParamCheck& p : params) m = std::max(m, p.max_rel_error);
  return m;
}

double GradCheckReport::max_mean_abs_diff() const {
  double m = 0;
  for (const ParamCheck& p : params) m = std::max(m, p.mean_abs_diff);
  return m;
}

GradCheckReport compare_gradients(const std::vector<std::string>& names,
                                  const std::vector<Tensor>& numerical,
                                  const std::vector<Tensor>& analytic, double abs_floor) {
  if (names.size() != numerical.size() || names.size() != analytic.size()) {
    throw ValueError("compare_gradients: " + std::to_string(names.size()) + " names, " +
                     std::to_string(numerical.size()) + " numerical and " +
                     std::to_string(analytic.size()) + " analytic gradients");
  }
  GradCheckReport report;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const Tensor& n = numerical[k];
    const Tensor& a = analytic[k];
    if (n.shape() != a.shape()) {
      throw ShapeError("compare_gradients: " + names[k] + ": numerical " + shape_str(n.shape()) +
                       " vs analytic " + shape_str(a.shape()));
    }
    ParamCheck check;
    check.name = names[k];
    double total = 0;
    for (std::int64_t i = 0; i < n.numel(); ++i) {
      const double an = a.get(i), nu = n.get(i);
      const double diff = std::abs(an - nu);
      total += diff;
      check.max_abs_diff = std::max(check.max_abs_diff, diff);
      const double scale = std::max({std::abs(an), std::abs(nu), abs_floor});
      check.max_rel_error = std::max(check.max_rel_error, diff / scale);
    }
    if (n.numel() > 0) check.mean_abs_diff = total / static_cast<double>(n.numel());
    report.params.push_back(std::move(check));
  }
  return report;
}

GradCheckReport gradient_check(const std::function<Var()>& f, std::vector<Var> params, double h,
                               double abs_floor) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < params.size(); ++k) {
    Var& p = params[k];
    std::string name = p.name();
    if (name.empty()) name.append("p").append(std::to_string(k));  // p0, p1, ...
    names.push_back(std::move(name));
    p.zero_grad();
  }
  f().backward();
  std::vector<Tensor> analytic, numerical;
  for (Var& p : params) analytic.push_back(p.grad());
  for (Var& p : params) {
    numerical.push_back(numerical_gradient([&] { return f().item(); }, p.value(), h));
  }
  return compare_gradients(names, numerical, analytic, abs_floor);
}

}  // namespace nabla
