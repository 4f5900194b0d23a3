// Lecture 3's matrix calculus, computed: the gradient as a slope, Jacobians built from
// backward passes (nabla/jacobian.h) next to the formulas, and the error signal delta of
// the window classifier's score s = u^T f(Wx + b).
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "examples.h"
#include "nabla/autograd/jacobian.h"
#include "nabla/ops/indexing.h"
#include "nabla/ops/logistic_loss.h"
#include "nabla/ops/ops.h"

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
  // The graph: h = tanh(z), and the gradient of sum(h) at z, the Jacobian's diagonal.
  Var zv = Var::parameter(z, "z");
  Var hv = tanh(zv).set_name("h");
  hv.backward(Tensor::ones(hv.shape(), DType::f64));
  print_grad(out, "d(sum h)/dz = the diagonal", zv);
  return hv;
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
  // The graph of Wx + b (--dot), with the gradient of the sum of its outputs.
  Var xv = Var::parameter(x, "x"), bv = Var::parameter(b, "b");
  Var y = (matmul(Var::constant(W, "W"), xv) + bv).set_name("Wx + b");
  y.backward(Tensor::ones(y.shape(), DType::f64));
  return y;
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

// The lecture's window: "museums in Paris are amazing", centre word Paris. x is the five
// word vectors side by side, h = tanh(x W + b), s = h u, P(location) = sigmoid(s); the
// binary logistic loss for "Paris is a location" sends its gradient down to the vectors.
Var window_classifier(std::ostream& out) {
  const std::vector<std::string> words = {"museums", "in", "Paris", "are", "amazing"};
  const std::int64_t d = 4, hidden = 3;
  Rng rng(2);
  std::vector<Var> vectors;
  for (const std::string& w : words) {
    vectors.push_back(Var::parameter(Tensor::randn({1, d}, rng, 0.5, DType::f64), w));
  }
  Var W = Var::parameter(Tensor::randn({5 * d, hidden}, rng, 0.5, DType::f64), "W");
  Var b = Var::parameter(Tensor({1, hidden}, DType::f64), "b");
  Var u = Var::parameter(Tensor::randn({hidden, 1}, rng, 0.5, DType::f64), "u");
  auto score = [&] {
    Var x = concat(vectors, 1).set_name("x");  // (1, 5d)
    Var h = tanh(matmul(x, W) + b).set_name("h");
    return matmul(h, u).set_name("s");
  };
  out << "window: museums in [Paris] are amazing; 5 word vectors of " << d << " -> x of " << 5 * d
      << "\n";
  Var s = score();
  out << "P(location) = sigmoid(s) = " << format_number(1 / (1 + std::exp(-s.item())), 4)
      << " (random start)\n";
  Var loss = binary_logistic_loss(s, {1}).set_name("J");
  loss.backward();
  out << "J = -log P(location) = " << format_number(loss.item(), 4) << "\n";
  print_grad(out, "dJ/d(Paris vector)", vectors[2]);
  print_grad(out, "dJ/d(museums vector)", vectors[0]);
  // SGD on this one window: the vectors move too.
  for (int step = 0; step < 50; ++step) {
    for (Var* p : {&W, &b, &u, &vectors[0], &vectors[1], &vectors[2], &vectors[3], &vectors[4]}) {
      p->zero_grad();
    }
    Var j = binary_logistic_loss(score(), {1});
    j.backward();
    for (Var* p : {&W, &b, &u, &vectors[0], &vectors[1], &vectors[2], &vectors[3], &vectors[4]}) {
      p->value() = sub(p->value(), scale(p->grad(), 0.5));
    }
  }
  Var trained = score();
  out << "after 50 SGD steps (lr 0.5) on this window, word vectors included: P(location) = "
      << format_number(1 / (1 + std::exp(-trained.item())), 4) << "\n";
  return loss;
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
  table["window"] = {window_classifier,
                     "museums in Paris are amazing: P(location) from 5 word vectors (--dot)"};
}

}  // namespace nabla::cli
