// Sequential: layers in order, a loss layer last, parameters named W1, b1, W2, b2, ...
#include "nabla/network.h"

#include <string>

#include "nabla/gradcheck.h"
#include "nabla/ops.h"

namespace nabla {

namespace {

// The first layer's dX is wanted only when its input needs a gradient.
void set_first_input_grad(std::vector<std::unique_ptr<Layer>>& layers, bool needed) {
  if (!layers.empty()) layers.front()->set_input_grad(needed);
}

// The layers' forward in order, without copying x.
Tensor forward_all(std::vector<std::unique_ptr<Layer>>& layers, const Tensor& x, bool train) {
  if (layers.empty()) return x;
  Tensor out = layers.front()->forward(x, train);
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

Sequential& Sequential::add(std::unique_ptr<SparseAffine> layer) {
  if (!layers_.empty()) {
    throw ValueError("Sequential: a SparseAffine takes the input, so it must be the first layer");
  }
  sparse_entry_ = layer.get();
  return add(std::unique_ptr<Layer>(std::move(layer)));
}

SparseAffine& Sequential::sparse_entry(const char* op) {
  if (sparse_entry_ == nullptr) {
    throw ValueError(std::string("Sequential::") + op +
                     ": sparse pixel rows need a SparseAffine first layer");
  }
  return *sparse_entry_;
}

Tensor Sequential::forward_sparse(const SparseBatch& x, bool train) {
  Tensor out = sparse_entry(train ? "gradient" : "predict").forward(x, train);
  for (std::size_t i = 1; i < layers_.size(); ++i) out = layers_[i]->forward(out, train);
  return out;
}

void Sequential::set_threads(int threads) {
  if (sparse_entry_ != nullptr) sparse_entry_->set_threads(threads);
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

Tensor Sequential::predict(const SparseBatch& x) { return forward_sparse(x, false); }

double Sequential::loss(const Tensor& x, const Targets& t) {
  return loss_layer().forward(forward_all(layers_, x, true), t);
}

double Sequential::accuracy(const Tensor& x, const std::vector<std::int64_t>& t) {
  return nabla::accuracy(predict(x), t, "accuracy");
}

double Sequential::gradient(const Tensor& x, const Targets& t) {
  set_first_input_grad(layers_, false);  // nobody needs dL/dx here
  return backward_all(loss(x, t));
}

double Sequential::gradient(const SparseBatch& x, const Targets& t) {
  set_first_input_grad(layers_, false);
  return backward_all(loss_layer().forward(forward_sparse(x, true), t));
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
