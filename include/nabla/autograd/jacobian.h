// nabla/jacobian.h — the full Jacobian of a vector function, from backward passes.
//
// For f: R^n -> R^m the Jacobian J is the m x n matrix of partials J[i][j] = df_i/dx_j.
// Backpropagation computes one vector-Jacobian product v^T J per backward pass; with v the
// i-th unit vector that is row i of J. So jacobian() builds f's graph once and runs m
// backward passes through it. numerical_jacobian() is its check: central differences,
// one column per input element.
//
//   Tensor z = Tensor::from({3}, {-1.0, 0.5, 2.0});
//   Tensor J = jacobian([](const Var& x) { return tanh(x); }, z);
//   // J = diag(1 - tanh(z)^2): an elementwise function has a diagonal Jacobian
//
// Inputs and outputs of any shape are read in row-major order (x of shape (2, 3) is the
// vector of its 6 elements), so J always has shape (numel(f(x)), numel(x)).
#pragma once

#include <functional>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

using VectorFunction = std::function<Var(const Var&)>;

// J[i][j] = d f(x)_i / d x_j, by one backward pass per output element.
Tensor jacobian(const VectorFunction& f, const Tensor& x);

// The same matrix by central differences: (f(x + h e_j) - f(x - h e_j)) / 2h, column j.
// Use float64 inputs: in float32 the rounding error of f swamps the difference.
Tensor numerical_jacobian(const VectorFunction& f, const Tensor& x, double h = 1e-6);

}  // namespace nabla
NABLA_API_END
