// A layer of your own, outside the library: y = g * tanh(x), with a learnable gain g per
// feature. Forward keeps what backward needs (tanh(x)); backward returns dL/dx and adds
// dL/dg into g's gradient. A numerical gradient check then confirms the backward, and the
// layer trains in a Sequential like the library's own.
//
// Built against the installed package (CMakeLists.txt here: find_package(nabla 0.2)), or
// in nabla's own build (examples/CMakeLists.txt).
#include <nabla/nabla.h>

#include <cstdio>
#include <memory>
#include <string>

using namespace nabla;

class GainTanh : public Layer {
 public:
  explicit GainTanh(std::int64_t features, DType dtype = DType::f32) {
    register_parameter("g", Tensor::ones({features}, dtype));
  }
  std::string kind() const override { return "GainTanh"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<GainTanh>(*this); }

  // x (N, F) -> g * tanh(x), g broadcast over the rows.
  Tensor forward(const Tensor& x) override {
    Tensor t = nabla::tanh(x);
    if (is_training()) t_ = t;
    return mul(t, g().value());
  }

  // dout (N, F): dL/dg = sum over rows of dout * tanh(x), of g's shape (F);
  // dL/dx = dout * g * (1 - tanh(x)^2).
  Tensor backward(const Tensor& dout) override {
    require_forward(t_.defined(), dout, t_.shape());
    Tensor dg = sum(mul(dout, t_), 0);
    g().grad() = g().has_grad() ? add(g().grad(), dg) : dg;
    return mul(mul(dout, g().value()), add_scalar(neg(square(t_)), 1.0));
  }

 private:
  Var& g() { return parameter_at(0); }
  Tensor t_;  // tanh(x) of the latest forward in training mode
};

int main() {
  // 1. Its backward against central differences, in float64.
  Rng rng(1);
  GainTanh layer(3, DType::f64);
  layer.parameter("g").value() = Tensor::randn({3}, rng, 1.0, DType::f64);
  Var x = Var::parameter(Tensor::randn({4, 3}, rng, 1.0, DType::f64), "x");
  GradCheckReport report =
      gradient_check([&] { return sum(square(layer(x))); }, {x, layer.parameter("g")});
  for (const ParamCheck& p : report.params) {
    std::printf("%s: max relative error %.1e\n", p.name.c_str(), p.max_rel_error);
  }
  const bool ok = report.max_rel_error() < 1e-6;
  std::printf("gradient check: %s\n", ok ? "ok" : "FAILED");

  // 2. In a network: affine, the custom layer, affine, softmax loss; a few SGD steps on
  // a fixed batch make the loss fall.
  Sequential net;
  net.emplace<Affine>(4, 8, 0.5, rng);
  net.emplace<GainTanh>(8);
  net.emplace<Affine>(8, 3, 0.5, rng);
  net.set_loss(std::make_unique<SoftmaxWithLoss>());
  Tensor batch = Tensor::randn({6, 4}, rng);
  Targets labels(std::vector<std::int64_t>{0, 1, 2, 0, 1, 2});
  const double first = net.gradient(batch, labels);
  double last = first;
  for (int step = 0; step < 50; ++step) {
    for (Var& p : net.parameters()) {
      p.value() = sub(p.value(), scale(p.grad(), 0.5));
      p.zero_grad();
    }
    last = net.gradient(batch, labels);
  }
  std::printf("loss %.3f -> %.3f after 50 steps\n", first, last);
  return ok && last < first ? 0 : 1;
}
