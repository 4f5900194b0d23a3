// The README's "Using the library" program. tests/consumer/run.sh builds it against an
// installed nabla (find_package, pkg-config) and through add_subdirectory, runs it and
// checks what it prints.
#include <nabla/nabla.h>

#include <cstdio>
#include <vector>
using namespace nabla;

int main() {
  configure_runtime();  // optional: the CLI's memory and BLAS settings, for speed

  Var x = Var::parameter(Tensor::scalar(-2), "x");
  Var y = Var::parameter(Tensor::scalar(5), "y");
  Var z = Var::parameter(Tensor::scalar(-4), "z");
  Var f = (x + y) * z;  // f = -12
  f.backward();         // x.grad() = -4, y.grad() = -4, z.grad() = 3
  std::printf("f = %g; df/dx = %g, df/dy = %g, df/dz = %g\n", f.item(), x.grad().item(),
              y.grad().item(), z.grad().item());

  Rng rng(42);
  Sequential net = make_two_layer_net(4, 8, 3, 0.01, rng);  // Affine-Relu-Affine + SoftmaxWithLoss
  Tensor batch = Tensor::randn({6, 4}, rng, 1.0);
  std::vector<std::int64_t> labels = {0, 1, 2, 0, 1, 2};
  double loss = net.gradient(batch, labels);  // forward + backward: about ln 3 untrained
  std::printf("loss %.3f\n", loss);
  return 0;
}
