// nabla/gradcheck.h — numerical gradients and gradient checking.
//
//   auto report = gradient_check([&] { return sum(square(matmul(x, w))); }, {x, w});
//   report.max_rel_error();   // ~1e-10 in float64
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

// Central differences (f(x + h) - f(x - h)) / 2h, one element of x at a time; x is
// perturbed in place and restored. The result has x's shape and dtype.
Tensor numerical_gradient(const std::function<double()>& f, Tensor& x, double h = 1e-4);

struct ParamCheck {
  std::string name;
  double mean_abs_diff = 0;  // the textbook's figure
  double max_abs_diff = 0;
  // max over elements of |a - n| / max(|a|, |n|, abs_floor)
  double max_rel_error = 0;
};

struct GradCheckReport {
  std::vector<ParamCheck> params;
  double max_rel_error() const;
  double max_mean_abs_diff() const;
};

// Compares numerical and backprop gradients parameter by parameter. Magnitudes below
// abs_floor count as abs_floor in the relative error, so entries that are zero up to
// rounding do not divide by zero.
GradCheckReport compare_gradients(const std::vector<std::string>& names,
                                  const std::vector<Tensor>& numerical,
                                  const std::vector<Tensor>& analytic, double abs_floor = 1e-6);

// Builds the graph with f, backpropagates, and compares each parameter's grad with its
// numerical gradient. Parameters' grads are zeroed first. Names come from the Vars
// ("p0", "p1", ... for unnamed ones).
GradCheckReport gradient_check(const std::function<Var()>& f, std::vector<Var> params,
                               double h = 1e-5, double abs_floor = 1e-6);

}  // namespace nabla
NABLA_API_END
