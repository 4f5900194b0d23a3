// `nabla example NAME`: the worked examples of the textbook, computed by the library.
// Every result prints on its own line as `name = value`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "commands.h"
#include "examples.h"
#include "exit_status.h"
#include "nabla/autograd/dot.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"
#include "suggest.h"

namespace nabla::cli {

namespace {

Var apple(std::ostream& out) {
  Var apple = scalar(100, "apple"), apple_num = scalar(2, "apple_num"), tax = scalar(1.1, "tax");
  MulLayer mul_apple, mul_tax;  // the layers act as nodes of the graph
  Var price = mul_tax(mul_apple(apple, apple_num), tax).set_name("price");
  price.backward();
  print(out, "price", price);
  print_grad(out, "d_apple", apple);
  print_grad(out, "d_apple_num", apple_num);
  print_grad(out, "d_tax", tax);
  return price;
}

Var apple_orange(std::ostream& out) {
  Var apple = scalar(100, "apple"), apple_num = scalar(2, "apple_num");
  Var orange = scalar(150, "orange"), orange_num = scalar(3, "orange_num");
  Var tax = scalar(1.1, "tax");
  MulLayer mul_apple, mul_orange, mul_tax;
  AddLayer add_fruit;
  Var all = add_fruit(mul_apple(apple, apple_num), mul_orange(orange, orange_num));
  Var price = mul_tax(all, tax).set_name("price");
  price.backward();
  print(out, "price", price);
  print_grad(out, "d_apple_num", apple_num);
  print_grad(out, "d_apple", apple);
  print_grad(out, "d_orange", orange);
  print_grad(out, "d_orange_num", orange_num);
  print_grad(out, "d_tax", tax);
  return price;
}

Var add_mul(std::ostream& out) {
  Var x = scalar(-2, "x"), y = scalar(5, "y"), z = scalar(-4, "z");
  Var f = ((x + y).set_name("q") * z).set_name("f");
  f.backward();
  print(out, "f", f);
  print_grad(out, "df/dx", x);
  print_grad(out, "df/dy", y);
  print_grad(out, "df/dz", z);
  return f;
}

Var square_sum(std::ostream& out) {
  Var x = scalar(1, "x"), y = scalar(2, "y");
  Var t = (x + y).set_name("t");
  Var z = square(t).set_name("z");  // dz/dt = 2t, dt/dx = dt/dy = 1
  z.backward();
  print(out, "z", z);
  print_grad(out, "dz/dt", t);
  print_grad(out, "dz/dx", x);
  print_grad(out, "dz/dy", y);
  out << "check: 2(x+y) = " << 2 * (x.item() + y.item()) << "\n";
  return z;
}

Var sigmoid_gate(std::ostream& out) {
  struct Gate {
    Var w0 = scalar(2, "w0"), x0 = scalar(-1, "x0"), w1 = scalar(-3, "w1"), x1 = scalar(-2, "x1"),
        w2 = scalar(-3, "w2");
    Var affine() { return w0 * x0 + w1 * x1 + w2; }
    void print_grads(std::ostream& o, const Var& f) {
      print(o, "f", f);
      print_grad(o, "dw0", w0);
      print_grad(o, "dx0", x0);
      print_grad(o, "dw1", w1);
      print_grad(o, "dx1", x1);
      print_grad(o, "dw2", w2);
    }
  };
  Gate primitive, fused;
  // mul, add, *-1, exp, +1, 1/x
  Var f1 = reciprocal(exp(primitive.affine() * -1.0) + 1.0).set_name("f");
  f1.backward();
  out << "# built from primitive nodes (mul, add, *-1, exp, +1, 1/x)\n";
  primitive.print_grads(out, f1);
  // one sigmoid node: backward is dout * y * (1 - y)
  Var f2 = sigmoid(fused.affine()).set_name("f");
  f2.backward();
  out << "# one fused sigmoid node\n";
  fused.print_grads(out, f2);
  return f1;
}

Var relu_mask(std::ostream& out) {
  Var x = Var::parameter(Tensor::from({2, 2}, {1.0, -0.5, -2.0, 3.0}), "x");
  Relu relu_layer;
  Var y = relu_layer(x).set_name("out");
  Tensor dout = Tensor::from({2, 2}, {1, 1, 1, 1});
  y.backward(dout);
  print(out, "x", x);
  Tensor mask({2, 2}, DType::f64);
  for (std::size_t i = 0; i < relu_layer.mask().size(); ++i) {
    mask.set(static_cast<std::int64_t>(i), relu_layer.mask()[i]);
  }
  print(out, "mask (x <= 0)", mask);
  print(out, "out", y);
  print(out, "dout", dout);
  print_grad(out, "dx", x);
  return y;
}

Var affine_bias(std::ostream& out) {
  // X.W = [[0,0,0],[10,10,10]]
  Var X = Var::parameter(Tensor::from({2, 2}, {0, 0, 1, 1}), "X");
  Affine affine(Tensor::from({2, 3}, {5, 5, 5, 5, 5, 5}), Tensor::from({3}, {1, 2, 3}));
  affine.W().set_name("W");
  affine.b().set_name("B");
  Var Y = affine(X).set_name("Y");
  Y.backward(Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}));
  print(out, "X.W", matmul(X.value(), affine.W().value()));
  print(out, "B", affine.b().value());
  print(out, "Y", Y);
  print(out, "dY", Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}));
  print_grad(out, "dB", affine.b());
  print_grad(out, "dW", affine.W());
  print_grad(out, "dX", X);
  return Y;
}

Var softmax_loss(std::ostream& out) {
  // Scores whose softmax is exactly y: s = log(y) (log 0 = -inf gives probability 0).
  auto case_of = [&](const std::vector<double>& y, const char* label) {
    std::vector<double> s;
    for (double p : y) s.push_back(p > 0 ? std::log(p) : -std::numeric_limits<double>::infinity());
    SoftmaxWithLoss layer;
    Var scores = Var::parameter(Tensor::from({1, 3}, s), "scores");
    Var loss = layer(scores, Targets(std::vector<std::int64_t>{1})).set_name("loss");
    loss.backward();
    out << "# " << label << "\n";
    print(out, "t", Tensor::from({3}, {0, 1, 0}));
    print(out, "y", layer.probabilities());
    print(out, "loss", loss);
    print(out, "y - t", scores.grad());
    return loss;
  };
  Var first = case_of({0.3, 0.2, 0.5}, "y = (0.3, 0.2, 0.5)");
  case_of({0.01, 0.99, 0.0}, "y = (0.01, 0.99, 0)");
  return first;
}

Var svm_loss(std::ostream& out) {
  // Scores of three images (columns of the lecture's table: true classes cat, car, frog);
  // one row per image here, classes in the order cat, car, frog.
  Var scores = Var::parameter(Tensor::from({3, 3}, {3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1}),
                              "scores");
  SvmLoss layer(1.0);
  Var loss = layer(scores, Targets(std::vector<std::int64_t>{0, 1, 2})).set_name("L");
  loss.backward();
  const char* names[] = {"cat", "car", "frog"};
  for (std::size_t i = 0; i < 3; ++i) {
    out << "L_" << names[i] << " = " << format_number(layer.sample_losses()[i]) << "\n";
  }
  out << "L = mean = " << format_number(loss.item(), 3) << "\n";
  print_grad(out, "dL/dscores", scores);
  return loss;
}

Var softmax_probabilities(std::ostream& out) {
  // Scores dog 2.3, cat -1.2; the true class is cat.
  Var scores = Var::parameter(Tensor::from({2}, {2.3, -1.2}), "scores");
  Var p = softmax(scores).set_name("p");
  Var loss = neg(sum(Var::constant(Tensor::from({2}, {0, 1}), "t (cat)") * log(p)))
                 .set_name("loss");
  loss.backward();
  const Tensor e = exp(scores.value());
  out << "exp = [" << format_number(e.get(0), 3) << ", " << format_number(e.get(1), 2) << "]\n";
  out << "probabilities = [" << format_number(p.value().get(0), 2) << ", "
      << format_number(p.value().get(1), 1) << "]\n";
  out << "loss (true class cat) = -log(" << format_number(p.value().get(1), 1)
      << ") = " << format_number(loss.item(), 2) << "\n";
  out << "exact: p = " << to_string(p.value()) << ", loss = " << format_number(loss.item()) << "\n";
  return loss;
}

Var l1_distance_example(std::ostream& out) {
  const std::vector<double> test = {56, 32, 10,  18,  90, 23, 128, 133,
                                    24, 26, 178, 200, 2,  0,  255, 220};
  const std::vector<double> train = {10, 20, 24,  17,  8, 10, 89,  100,
                                     12, 16, 178, 170, 4, 32, 233, 112};
  Var a = Var::constant(Tensor::from({4, 4}, test), "test image");
  Var b = Var::constant(Tensor::from({4, 4}, train), "training image");
  Var diff = maximum(a - b, b - a).set_name("|test - training|");
  Var d1 = sum(diff).set_name("d1");
  print(out, "test image", a);
  print(out, "training image", b);
  print(out, "|test - training|", diff);
  print(out, "d1", d1);
  return d1;
}

Var numerical_gradient_walkthrough(std::ostream& out) {
  using Clock = std::chrono::steady_clock;
  // The lecture's walk-through: the loss at W is 1.25347; h = 0.0001 added to each of the
  // first three weights in turn gives these losses.
  const double lecture_loss = 1.25347, lecture_h = 0.0001;
  for (double shifted : {1.25322, 1.25353, 1.25347}) {
    out << "# the lecture's arithmetic: (" << format_number(shifted) << " - "
        << format_number(lecture_loss) << ") / " << format_number(lecture_h) << " = "
        << format_number((shifted - lecture_loss) / lecture_h, 2) << "\n";
  }
  // A linear classifier f = x.W + b with the softmax loss on 20 random 784-pixel
  // inputs of 10 classes, in float64.
  Rng rng(7);
  Tensor x = Tensor::uniform({20, 784}, rng, 0.0, 1.0, DType::f64);
  std::vector<std::int64_t> t;
  for (int i = 0; i < 20; ++i) t.push_back(rng.below(10));
  Affine linear(784, 10, 0.01, rng, DType::f64);
  SoftmaxWithLoss loss_layer;
  auto loss_at = [&] {
    linear.eval();
    double value = loss_layer.forward(linear.forward(x), t);
    linear.train();
    return value;
  };

  auto start = Clock::now();
  double loss = loss_layer.forward(linear.forward(x), t);
  Tensor dscores = loss_layer.backward(1.0);
  linear.W().zero_grad();
  linear.backward(dscores);
  double analytic_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const Tensor& analytic = linear.W().grad();

  const double h = 0.0001;
  out << "loss at W = " << format_number(loss) << "\n";
  out << "forward differences, h = 0.0001, one weight at a time:\n";
  Tensor& W = linear.W().value();
  start = Clock::now();
  constexpr int kShown = 10;
  for (std::int64_t i = 0; i < W.numel(); ++i) {
    double old = W.get(i);
    W.set(i, old + h);
    double loss_h = loss_at();
    W.set(i, old);
    double numerical = (loss_h - loss) / h;
    if (i < kShown) {
      char line[160];
      std::snprintf(line, sizeof line,
                    "W[%lld]: loss %.6f -> %.6f, numerical %+.6f, analytic %+.6f, diff %.1e\n",
                    static_cast<long long>(i), loss, loss_h, numerical, analytic.get(i),
                    std::abs(numerical - analytic.get(i)));
      out << line;
    }
  }
  double numerical_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  char line[200];
  std::snprintf(line, sizeof line,
                "time: numerical %.3f s for all %lld weights (one loss each), analytic %.6f s "
                "(one backward pass): %.0fx slower\n",
                numerical_seconds, static_cast<long long>(W.numel()), analytic_seconds,
                numerical_seconds / std::max(analytic_seconds, 1e-9));
  out << line;
  // The graph whose gradient the walk-through checked: scores = x.W + b, then the loss.
  Var scores = linear(Var::constant(x, "x")).set_name("scores");
  Var graph = loss_layer(scores, Targets(t)).set_name("loss");
  return graph;
}

const ExampleTable& examples() {
  static const ExampleTable all = [] {
    ExampleTable table = {
        {"apple", {apple, "price = apple * apple_num * tax (MulLayer)"}},
        {"apple-orange", {apple_orange, "(apple*apple_num + orange*orange_num) * tax"}},
        {"add-mul", {add_mul, "f(x, y, z) = (x + y) * z"}},
        {"square-sum", {square_sum, "z = (x + y)^2 as t = x + y, z = t^2"}},
        {"sigmoid-gate", {sigmoid_gate, "1/(1+exp(-(w0 x0 + w1 x1 + w2))), primitive and fused"}},
        {"relu-mask", {relu_mask, "ReLU layer: mask of x <= 0, forward and backward"}},
        {"affine-bias", {affine_bias, "batched Affine: Y = X.W + B, dB = sum of dY over axis 0"}},
        {"softmax-loss", {softmax_loss, "Softmax-with-Loss backward: y - t"}},
        {"svm-loss", {svm_loss, "multiclass SVM (hinge) loss of three images: 2.9, 0, 12.9"}},
        {"softmax-probabilities",
         {softmax_probabilities, "scores dog 2.3, cat -1.2 -> 0.97, 0.03"}},
        {"l1-distance", {l1_distance_example, "L1 distance of two 4x4 images: 456"}},
        {"numerical-gradient",
         {numerical_gradient_walkthrough, "forward differences vs the analytic gradient"}},
    };
    add_backprop_examples(table);
    add_matrix_calculus_examples(table);
    add_cnn_examples(table);
    add_sequence_examples(table);
    return table;
  }();
  return all;
}

// Writes DOT text to `path`, or renders it to SVG through Graphviz when the path ends
// in ".svg".
void write_graph(const std::string& path, const std::string& dot) {
  bool svg = path.size() > 4 && path.compare(path.size() - 4, 4, ".svg") == 0;
  if (!svg) {
    std::ofstream file(path);
    file << dot;
    if (!file) throw std::runtime_error("cannot write " + path);
    return;
  }
  std::string quoted = "'";
  for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  FILE* pipe = popen(("dot -Tsvg -o " + quoted).c_str(), "w");
  if (pipe == nullptr) throw std::runtime_error("cannot run Graphviz's dot");
  std::fwrite(dot.data(), 1, dot.size(), pipe);
  if (pclose(pipe) != 0) {
    throw std::runtime_error("Graphviz's dot failed to write " + path +
                             " (is graphviz installed? apt-get install graphviz)");
  }
}

}  // namespace

Runner add_example_command(CLI::App& app) {
  struct Options {
    std::string name;
    std::string dot;
    bool list = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("example", "Run a textbook worked example");
  sub->add_option("name", opts->name, "Example to run (see --list)");
  sub->add_option("--dot", opts->dot,
                  "Write its computational graph: Graphviz DOT, or SVG if FILE ends in .svg "
                  "(needs Graphviz's dot)")
      ->check(non_empty_path());
  sub->add_flag("--list", opts->list, "List the examples");
  return [opts]() -> int {
    if (opts->list || opts->name.empty()) {
      for (const auto& [name, entry] : examples()) {
        std::cout << name
                  << std::string(std::max<std::size_t>(24, name.size() + 2) - name.size(), ' ')
                  << entry.second << "\n";
      }
      if (opts->list) return 0;
      // (a usage error says so on stderr, as every other does)
      throw UsageError("give the name of an example (the list above)");
    }
    auto it = examples().find(opts->name);
    if (it == examples().end()) {
      std::vector<std::string> names;
      for (const auto& entry : examples()) names.push_back(entry.first);
      std::optional<std::string> close = closest_match(opts->name, names);
      throw UsageError("unknown example '" + opts->name + "'" +
                       (close ? "; did you mean '" + *close + "'?" : "") +
                       " (nabla example --list shows them)");
    }
    Var root = it->second.first(std::cout);
    if (!opts->dot.empty() && !root.defined()) {
      throw UsageError(opts->name + " records no graph to draw (--dot)");
    }
    if (!opts->dot.empty()) {
      write_graph(opts->dot, to_dot(root, opts->name));
      std::cout << "graph written to " << opts->dot << "\n";
    }
    return 0;
  };
}

}  // namespace nabla::cli
