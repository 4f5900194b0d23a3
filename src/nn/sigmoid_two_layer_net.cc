// The non-modular two-layer net: sigmoid hidden layer, gradient written out by hand.
#include <string>

#include "nabla/autograd/gradcheck.h"
#include "nabla/nn/network.h"
#include "nabla/ops/ops.h"

namespace nabla {

SigmoidTwoLayerNet::SigmoidTwoLayerNet(std::int64_t input_size, std::int64_t hidden_size,
                                       std::int64_t output_size, double weight_init_std, Rng& rng,
                                       DType dtype)
    : W1_(Var::parameter(Tensor::randn({input_size, hidden_size}, rng, weight_init_std, dtype),
                         "W1")),
      b1_(Var::parameter(Tensor::zeros({hidden_size}, dtype), "b1")),
      W2_(Var::parameter(Tensor::randn({hidden_size, output_size}, rng, weight_init_std, dtype),
                         "W2")),
      b2_(Var::parameter(Tensor::zeros({output_size}, dtype), "b2")) {}

namespace {

// a2 = sigmoid(x.W1 + b1).W2 + b2, the scores (N, C) before the softmax.
Tensor scores(const Tensor& x, const std::vector<Var>& params) {
  Tensor z1 = sigmoid(add(matmul(x, params[0].value()), params[1].value()));  // (N, H)
  return add(matmul(z1, params[2].value()), params[3].value());
}

}  // namespace

Tensor SigmoidTwoLayerNet::predict(const Tensor& x) const {
  return softmax(scores(x, parameters()));
}

double SigmoidTwoLayerNet::loss(const Tensor& x, const Targets& t) const {
  // Cross-entropy of softmax(a2), taken stably from the scores (see SoftmaxWithLoss).
  return SoftmaxWithLoss().forward(scores(x, parameters()), t);
}

double SigmoidTwoLayerNet::accuracy(const Tensor& x, const std::vector<std::int64_t>& t) const {
  return nabla::accuracy(predict(x), t, "SigmoidTwoLayerNet::accuracy");
}

std::vector<Tensor> SigmoidTwoLayerNet::gradient(const Tensor& x, const Targets& t) const {
  // forward (the sigmoid and the loss are layers: their local derivatives live there)
  Sigmoid sigmoid_layer;
  SoftmaxWithLoss loss_layer;
  Tensor a1 = add(matmul(x, W1_.value()), b1_.value());   // (N, H)
  Tensor z1 = sigmoid_layer.forward(a1);                  // (N, H)
  Tensor a2 = add(matmul(z1, W2_.value()), b2_.value());  // (N, C)
  loss_layer.forward(a2, t);                              // y = softmax(a2)

  // backward
  Tensor dy = loss_layer.backward();  // (N, C) = (y - t) / N
  Tensor dW2 = Tensor::zeros(W2_.shape(), dy.dtype());
  Tensor db2 = Tensor::zeros(b2_.shape(), dy.dtype());
  affine_weight_grad(z1, dy, dW2);                  // (H, C) = z1^T . dy
  affine_bias_grad(dy, db2);                        // (C) = sum of dy over the batch
  Tensor dz1 = affine_input_grad(dy, W2_.value());  // (N, H) = dy . W2^T
  Tensor da1 = sigmoid_layer.backward(dz1);         // (N, H) = dz1 * (1 - z1) * z1
  Tensor dW1 = Tensor::zeros(W1_.shape(), dy.dtype());
  Tensor db1 = Tensor::zeros(b1_.shape(), dy.dtype());
  affine_weight_grad(x, da1, dW1);  // (D, H) = x^T . da1
  affine_bias_grad(da1, db1);       // (H)
  return {dW1, db1, dW2, db2};
}

std::vector<Tensor> SigmoidTwoLayerNet::numerical_gradient(const Tensor& x, const Targets& t,
                                                           double h) const {
  auto f = [&] { return loss(x, t); };
  std::vector<Tensor> grads;
  // The Vars are handles: perturbing a copy's value perturbs this net's parameter.
  for (Var p : parameters()) grads.push_back(nabla::numerical_gradient(f, p.value(), h));
  return grads;
}

Var SigmoidTwoLayerNet::loss_graph(const Tensor& x, const Targets& t) const {
  const std::int64_t n = x.size(0), c = W2_.value().size(1);
  Var xs = Var::constant(x, "x");
  Var ts = Var::constant(t.one_hot(n, c, x.dtype(), "SigmoidTwoLayerNet"), "t");
  Var z1 = sigmoid(matmul(xs, W1_) + b1_);
  Var a2 = matmul(z1, W2_) + b2_;  // (N, C)
  // Cross-entropy through log-softmax, like loss(): log y = a2 - m - log sum exp(a2 - m),
  // with m the row max as a constant (log-softmax does not depend on it).
  Var m = Var::constant(max(a2.value(), 1).reshape({n, 1}));
  Var shifted = a2 - m;
  Var log_y = shifted - reshape(log(sum(exp(shifted), 1)), {n, 1});
  return -sum(ts * log_y) * (1.0 / static_cast<double>(n));
}

}  // namespace nabla
