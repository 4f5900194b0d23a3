// The library used from C++: a scalar graph, the textbook's layers by hand, and a few
// steps of TwoLayerNet on random data — the README's snippets, compiled.
//
//   build/examples/backprop_by_hand
#include <cstdio>

#include "nabla/nabla.h"

using namespace nabla;

int main() {
  // f(x, y, z) = (x + y) * z as a computational graph.
  Var x = Var::parameter(Tensor::scalar(-2), "x");
  Var y = Var::parameter(Tensor::scalar(5), "y");
  Var z = Var::parameter(Tensor::scalar(-4), "z");
  Var f = (x + y) * z;
  f.backward();
  std::printf("f = %g; df/dx = %g, df/dy = %g, df/dz = %g\n", f.item(), x.grad().item(),
              y.grad().item(), z.grad().item());

  // The apple example with MulLayer, forward and backward by hand.
  MulLayer mul_apple, mul_tax;
  double apple_price = mul_apple.forward(100, 2);
  double price = mul_tax.forward(apple_price, 1.1);
  auto [d_apple_price, d_tax] = mul_tax.backward(1);
  auto [d_apple, d_apple_num] = mul_apple.backward(d_apple_price);
  std::printf("price = %g; d_apple = %g, d_apple_num = %g, d_tax = %g\n", price, d_apple,
              d_apple_num, d_tax);

  // TwoLayerNet learning to separate two random blobs, with SGD written out.
  Rng rng(42);
  Sequential net = make_two_layer_net(20, 16, 2, 0.1, rng);
  Tensor batch = Tensor::randn({64, 20}, rng, 1.0);
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < 64; ++i) {
    labels.push_back(i % 2);
    for (std::int64_t j = 0; j < 20; ++j) {
      batch.set(i * 20 + j, batch.get(i * 20 + j) + (i % 2 == 0 ? 1.0 : -1.0));
    }
  }
  for (int step = 0; step <= 100; ++step) {
    net.zero_grad();
    double loss = net.gradient(batch, labels);
    for (Var& p : net.parameters()) p.value() = sub(p.value(), scale(p.grad(), 0.1));
    if (step % 25 == 0) {
      std::printf("step %3d: loss %.4f, accuracy %.2f\n", step, loss, net.accuracy(batch, labels));
    }
  }
  return 0;
}
