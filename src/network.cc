// Sequential: layers in order, a loss layer last, parameters named W1, b1, W2, b2, ...
#include "nabla/network.h"

#include <string>

#include "nabla/gradcheck.h"
#include "nabla/ops.h"

namespace nabla {

namespace {

// A first Affine layer's dX is wanted only when its input needs a gradient.
void set_first_input_grad(std::vector<std::unique_ptr<Layer>>& layers, bool needed) {
  if (layers.empty()) return;
  if (auto* affine = dynamic_cast<Affine*>(layers.front().get())) {
    affine->set_input_grad(needed);
  }
}

// The layers' forward in order, without copying x.
Tensor forward_all(std::vector<std::unique_ptr<Layer>>& layers, const Tensor& x, bool train) {
  if (layers.empty()) return x;
  Tensor out = layers.front()->forward(x, train);
  for (std::size_t i = 1; i < layers.size(); ++i) out = layers[i]->forward(out, train);
  return out;
}

Tensor forward_all(std::vector<std::unique_ptr<Layer>>& layers, const SparseBatch& x, bool train) {
  if (layers.empty()) return x.to_dense();
  Tensor out = layers.front()->forward_sparse(x, train);
  for (std::size_t i = 1; i < layers.size(); ++i) out = layers[i]->forward(out, train);
  return out;
}

}  // namespace

Sequential& Sequential::add(std::unique_ptr<Layer> layer) {
  std::vector<Var> params = layer->parameters();
  if (!params.empty()) {
    ++parametrised_layers_;
    for (Var& p : params) {
      std::string base = p.name().empty() ? "p" : p.name();
      p.set_name(base + std::to_string(parametrised_layers_));  // W -> W1, b -> b1
    }
  }
  layers_.push_back(std::move(layer));
  return *this;
}

Sequential& Sequential::set_loss(std::unique_ptr<LossLayer> loss) {
  loss_ = std::move(loss);
  return *this;
}

LossLayer& Sequential::loss_layer() {
  if (!loss_) throw ValueError("Sequential: no loss layer (call set_loss first)");
  return *loss_;
}

std::vector<Var> Sequential::parameters() const {
  std::vector<Var> params;
  for (const auto& layer : layers_) {
    for (Var& p : layer->parameters()) params.push_back(p);
  }
  return params;
}

Var Sequential::parameter(const std::string& name) const {
  std::string known;
  for (const Var& p : parameters()) {
    if (p.name() == name) return p;
    known += (known.empty() ? "" : ", ") + p.name();
  }
  throw ValueError("Sequential: no parameter named '" + name + "' (the parameters are " +
                   (known.empty() ? "none" : known) + ")");
}

Tensor Sequential::predict(const Tensor& x) { return forward_all(layers_, x, false); }

Tensor Sequential::predict(const SparseBatch& x) { return forward_all(layers_, x, false); }

double Sequential::loss(const Tensor& x, const Targets& t) {
  return loss_layer().forward(forward_all(layers_, x, true), t);
}

double Sequential::accuracy(const Tensor& x, const std::vector<std::int64_t>& t) {
  std::vector<std::int64_t> predicted = argmax_rows(predict(x));
  if (predicted.size() != t.size()) {
    throw ValueError("accuracy: " + std::to_string(t.size()) + " labels for a batch of " +
                     std::to_string(predicted.size()));
  }
  if (t.empty()) throw ValueError("accuracy: empty batch");
  std::size_t correct = 0;
  for (std::size_t i = 0; i < t.size(); ++i) correct += predicted[i] == t[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(t.size());
}

double Sequential::gradient(const Tensor& x, const Targets& t) {
  set_first_input_grad(layers_, false);  // nobody needs dL/dx here
  return backward_all(loss(x, t));
}

double Sequential::gradient(const SparseBatch& x, const Targets& t) {
  set_first_input_grad(layers_, false);
  return backward_all(loss_layer().forward(forward_all(layers_, x, true), t));
}

double Sequential::backward_all(double loss_value) {
  Tensor dout = loss_layer().backward(1.0);
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) dout = (*it)->backward(dout);
  return loss_value;
}

void Sequential::zero_grad() {
  for (Var& p : parameters()) {
    if (p.has_grad()) p.grad().fill(0.0);
  }
}

std::vector<Tensor> Sequential::numerical_gradient(const Tensor& x, const Targets& t, double h) {
  auto f = [&] { return loss_layer().forward(predict(x), t); };
  std::vector<Tensor> grads;
  for (Var& p : parameters()) grads.push_back(nabla::numerical_gradient(f, p.value(), h));
  return grads;
}

Var Sequential::forward_graph(const Var& x, const Targets& t) {
  set_first_input_grad(layers_, x.requires_grad());
  Var out = x;
  for (auto& layer : layers_) out = (*layer)(out);
  return loss_layer()(out, t);
}

Sequential make_two_layer_net(std::int64_t input_size, std::int64_t hidden_size,
                              std::int64_t output_size, double weight_init_std, Rng& rng,
                              DType dtype) {
  Sequential net;
  net.emplace<Affine>(input_size, hidden_size, weight_init_std, rng, dtype);   // W1, b1
  net.emplace<Relu>();                                                         // Relu1
  net.emplace<Affine>(hidden_size, output_size, weight_init_std, rng, dtype);  // W2, b2
  net.set_loss(std::make_unique<SoftmaxWithLoss>());
  return net;
}

}  // namespace nabla
