// Lecture 3's matrix calculus, computed: the gradient as a slope, Jacobians built from
// backward passes (nabla/jacobian.h) next to the formulas, and the error signal delta of
// the window classifier's score s = u^T f(Wx + b).
#include <ostream>

#include "examples.h"
#include "nabla/jacobian.h"
#include "nabla/ops.h"

namespace nabla::cli {

namespace {

// The identity matrix of size n (float64).
Tensor identity(std::int64_t n) {
  Tensor I({n, n}, DType::f64);
  for (std::int64_t i = 0; i < n; ++i) I.set(i * n + i, 1.0);
  return I;
}

// f(x) = x^3, f'(x) = 3x^2: near x the output moves f'(x) times as much as the input.
Var slope(std::ostream& out) {
  Var last;
  for (double at : {1.0, 4.0}) {
    Var x = scalar(at, "x");
    Var f = pow(x, 3).set_name("f");
    f.backward();
    const double moved = (at + 0.01) * (at + 0.01) * (at + 0.01);
    out << "x = " << format_number(at) << ": f(x) = " << format_number(f.item())
        << ", f(x + 0.01) = " << format_number(moved, 8)
        << ", change / 0.01 = " << format_number((moved - f.item()) / 0.01, 6)
        << ", f'(x) = 3x^2 = " << format_number(x.grad().item()) << "\n";
    last = f;
  }
  return last;
}

// An elementwise h = f(z) has the Jacobian diag(f'(z)).
Var jacobian_elementwise(std::ostream& out) {
  const Tensor z = Tensor::from({3}, {-1.0, 0.5, 2.0});
  print(out, "z", z);
  const Tensor J = jacobian([](const Var& v) { return tanh(v); }, z);
  print(out, "jacobian of tanh at z", J);
  Tensor formula({3, 3}, DType::f64);
  const Tensor h = tanh(z);
  for (std::int64_t i = 0; i < 3; ++i) formula.set(i * 3 + i, 1.0 - h.get(i) * h.get(i));
  print(out, "diag(1 - tanh(z)^2)", formula);
  out << "largest difference = " << format_number(max_abs_diff(J, formula), 2) << "\n";
  return Var();
}

// d(Wx + b)/dx = W, d(Wx + b)/db = I, d(u^T h)/du = h^T.
Var affine_jacobians(std::ostream& out) {
  const Tensor W = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor x = Tensor::from({3, 1}, {0.5, -1, 2});
  const Tensor b = Tensor::from({2, 1}, {0.1, -0.2});
  const Tensor h = Tensor::from({3, 1}, {0.3, -0.6, 0.9});
  const Tensor u = Tensor::from({3, 1}, {1, 2, -1});
  Var Wc = Var::constant(W), bc = Var::constant(b), xc = Var::constant(x), hc = Var::constant(h);
  print(out, "W", W);
  print(out, "d(Wx + b)/dx", jacobian([&](const Var& v) { return matmul(Wc, v) + bc; }, x));
  print(out, "d(Wx + b)/db", jacobian([&](const Var& v) { return matmul(Wc, xc) + v; }, b));
  print(out, "I", identity(2));
  print(out, "h^T", transpose(h));
  print(out, "d(u^T h)/du", jacobian([&](const Var& v) { return matmul(transpose(v), hc); }, u));
  return Var();
}

// s = u^T f(Wx + b) with f = tanh: delta = u o f'(z) = ds/db, and ds/dW = delta x^T. The
// Jacobian ds/dW is 1 x nm; the gradient, under the shape convention, is n x m like W.
Var score_gradient(std::ostream& out) {
  const std::int64_t n = 2, m = 3;
  const Tensor x = Tensor::from({m, 1}, {1.0, -1.0, 0.5});
  const Tensor u = Tensor::from({n, 1}, {1.5, -2.0});
  Var W = Var::parameter(Tensor::from({n, m}, {0.2, -0.1, 0.4, -0.3, 0.5, 0.1}), "W");
  Var b = Var::parameter(Tensor::from({n, 1}, {0.1, -0.2}), "b");
  Var z = (matmul(W, Var::constant(x, "x")) + b).set_name("z");
  Var s = matmul(transpose(Var::constant(u, "u")), tanh(z)).set_name("s");
  s.backward();
  print(out, "s", s);

  const Tensor h = tanh(z.value());
  Tensor delta({n, 1}, DType::f64);
  for (std::int64_t i = 0; i < n; ++i) delta.set(i, u.get(i) * (1.0 - h.get(i) * h.get(i)));
  print(out, "delta = u o f'(z)", delta);
  print_grad(out, "ds/db (backward)", b);
  print(out, "delta x^T", matmul(delta, x, false, true));
  print_grad(out, "ds/dW (backward, the shape of W)", W);

  auto s_of_W = [&](const Var& w) {
    return matmul(transpose(Var::constant(u)),
                  tanh(matmul(w, Var::constant(x)) + Var::constant(b.value())));
  };
  const Tensor J = jacobian(s_of_W, W.value());
  out << "jacobian ds/dW has shape " << shape_str(J.shape()) << "; the gradient has shape "
      << shape_str(W.shape()) << "\n";
  print(out, "jacobian ds/dW", J);
  auto z_of_W = [&](const Var& w) {
    return matmul(w, Var::constant(x)) + Var::constant(b.value());
  };
  out << "# only z_i depends on W_ij: row i of dz/dW is x^T in W's row i, zero elsewhere\n";
  print(out, "dz/dW", jacobian(z_of_W, W.value()));
  return s;
}

}  // namespace

void add_matrix_calculus_examples(ExampleTable& table) {
  table["slope"] = {slope, "f(x) = x^3: at x = 1 the output moves 3x, at x = 4 about 48x"};
  table["jacobian-elementwise"] = {jacobian_elementwise,
                                   "the Jacobian of elementwise tanh is diag(f'(z))"};
  table["affine-jacobians"] = {affine_jacobians,
                               "d(Wx + b)/dx = W, d(Wx + b)/db = I, d(u^T h)/du = h^T"};
  table["score-gradient"] = {score_gradient,
                             "s = u^T f(Wx + b): delta = u o f'(z) = ds/db, ds/dW = delta x^T"};
}

}  // namespace nabla::cli
