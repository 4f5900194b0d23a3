// Lecture 1's remaining worked examples: the mul node with numbers, the apple gradients
// checked by a finite change, the three backward patterns, and softmax-with-loss built
// from primitive nodes.
#include <cmath>
#include <ostream>

#include "examples.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla::cli {

namespace {

// A mul node by hand: backward multiplies the upstream gradient by the *other* input.
Var mul_node(std::ostream& out) {
  Var x = scalar(10, "x"), y = scalar(5, "y");
  MulLayer mul;  // the layer as a node of the graph
  Var result = mul(x, y).set_name("out");
  const double upstream = 1.3;
  result.backward(Tensor::scalar(upstream));
  out << "out = x * y = " << format_number(result.item()) << "\n";
  out << "dout = " << format_number(upstream) << "\n";
  out << "dx = dout * y = " << format_number(x.grad().item()) << "\n";
  out << "dy = dout * x = " << format_number(y.grad().item()) << "\n";
  return result;
}

// The price of `apple` apples at `apple_num` each with `tax`: the graph of the example
// `apple`, so its gradients are that table's.
double apple_price(double apple, double apple_num, double tax) {
  MulLayer mul_apple, mul_tax;
  return mul_tax.forward(mul_apple.forward(apple, apple_num), tax);
}

// The gradients say how much the price moves per unit of each input: move the input by
// one unit and look.
Var apple_finite_change(std::ostream& out) {
  Var apple = scalar(100, "apple"), apple_num = scalar(2, "apple_num"), tax = scalar(1.1, "tax");
  Var price = (apple * apple_num * tax).set_name("price");
  price.backward();
  const double base = price.item();
  auto report = [&](const char* what, double changed, const Var& input) {
    out << what << ": price = " << format_number(changed) << " (change "
        << format_number(changed - base) << ", gradient " << format_number(input.grad().item())
        << ")\n";
  };
  print(out, "price", price);
  report("apple 101 instead of 100", apple_price(101, 2, 1.1), apple);
  report("tax 2.1 instead of 1.1", apple_price(100, 2, 2.1), tax);
  return price;
}

// f = 2 (x y + max(z, w)): one add, one mul and one max gate, each with upstream 2.
Var backward_patterns(std::ostream& out) {
  Var x = scalar(3, "x"), y = scalar(-4, "y"), z = scalar(2, "z"), w = scalar(-1, "w");
  Var xy = (x * y).set_name("x*y");
  Var m = maximum(z, w).set_name("max(z,w)");
  Var sum = (xy + m).set_name("x*y + max(z,w)");
  Var f = (sum * 2.0).set_name("f");
  f.backward();
  print(out, "f", f);
  out << "# add distributes: the upstream gradient goes unchanged to both inputs\n";
  print_grad(out, "d(x*y)", xy);
  print_grad(out, "d(max(z,w))", m);
  out << "# mul switches: each input gets the upstream gradient times the other input\n";
  print_grad(out, "dx", x);
  print_grad(out, "dy", y);
  out << "# max routes: the larger input gets the upstream gradient, the other gets 0\n";
  print_grad(out, "dz", z);
  print_grad(out, "dw", w);
  return f;
}

// Softmax-with-loss from primitive nodes (exp, sum, divide, log, multiply) next to the
// fused layer, whose backward is (y - t) / N.
Var softmax_loss_primitive(std::ostream& out) {
  const Tensor scores = Tensor::from({2, 3}, {std::log(0.3), std::log(0.2), std::log(0.5),
                                              std::log(0.7), std::log(0.1), std::log(0.2)});
  const Tensor one_hot = Tensor::from({2, 3}, {0, 1, 0, 1, 0, 0});
  const double n = 2;

  Var s = Var::parameter(scores, "scores");
  Var e = exp(s).set_name("exp");
  Var total = reshape(sum(e, 1), {2, 1}).set_name("sum");
  Var y = (e / total).set_name("y");
  Var t = Var::constant(one_hot, "t");
  Var loss = (sum(t * log(y)) * (-1.0 / n)).set_name("loss");
  loss.backward();
  out << "# built from primitive nodes: exp, sum, divide, log, multiply\n";
  print(out, "y", y);
  print(out, "loss", loss);
  print_grad(out, "dscores", s);

  SoftmaxWithLoss fused;
  const double fused_loss = fused.forward(scores, Targets(one_hot));
  const Tensor fused_grad = fused.backward(1.0);
  out << "# one fused SoftmaxWithLoss layer: (y - t) / N\n";
  out << "loss = " << format_number(fused_loss) << "\n";
  print(out, "dscores", fused_grad);
  out << "largest difference of the gradients = "
      << format_number(max_abs_diff(s.grad(), fused_grad), 2) << "\n";
  return loss;
}

}  // namespace

void add_backprop_examples(ExampleTable& table) {
  table["mul-node"] = {mul_node, "mul node: x = 10, y = 5, upstream 1.3 -> dx = 6.5, dy = 13"};
  table["apple-finite-change"] = {
      apple_finite_change, "the apple gradients checked: apple 101 -> 222.2, tax 2.1 -> 420"};
  table["backward-patterns"] = {backward_patterns,
                                "add distributes, mul switches, max routes: 2(xy + max(z, w))"};
  table["softmax-loss-primitive"] = {
      softmax_loss_primitive, "softmax-with-loss from exp, sum, divide, log: the same y - t"};
}

}  // namespace nabla::cli
