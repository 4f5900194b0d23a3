// Sequential: layers in order, a loss layer last, parameters named W1, b1, W2, b2, ...
#include "nabla/nn/network.h"

#include <string>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/ops.h"
#include "nabla/detail/workers.h"

namespace nabla {

namespace {

// Puts a module in evaluation mode for a scope, then back in the mode it was in.
class EvalScope {
 public:
  explicit EvalScope(Module& m) : module_(m), was_training_(m.is_training()) {
    if (was_training_) module_.eval();
  }
  ~EvalScope() {
    if (was_training_) module_.train();
  }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

}  // namespace

Sequential::Sequential(const Sequential& other)
    : Module(other),
      loss_(other.loss_ ? other.loss_->copy() : nullptr),
      numbers_(other.numbers_),
      numbered_(other.numbered_),
      sparse_first_(other.sparse_first_) {}

Sequential& Sequential::operator=(const Sequential& other) {
  if (this != &other) *this = Sequential(other);
  return *this;
}

Sequential& Sequential::add(std::unique_ptr<Layer> layer) {
  const bool has_state = !layer->named_parameters().empty() || !layer->named_buffers().empty();
  const int number = has_state ? ++numbered_ : 0;
  if (has_state) {
    // the Vars' own names too (pictures of the graph show them): W -> W1, b -> b1
    for (auto& [name, p] : layer->named_parameters()) p.set_name(name + std::to_string(number));
    for (auto& [name, b] : layer->named_buffers()) b.set_name(name + std::to_string(number));
  }
  numbers_.push_back(number);
  register_module(std::to_string(numbers_.size()), std::move(layer));
  return *this;
}

Sequential& Sequential::add(std::unique_ptr<SparseAffine> layer) {
  if (size() != 0) {
    throw ValueError("Sequential: a SparseAffine takes the input, so it must be the first layer");
  }
  sparse_first_ = true;
  return add(std::unique_ptr<Layer>(std::move(layer)));
}

std::string Sequential::state_name(std::size_t i, const std::string& name) const {
  // A layer with no parameters or buffers (a Dropout's random stream): by its position.
  if (numbers_[i] == 0) return "layer" + std::to_string(i + 1) + "." + name;
  return name + std::to_string(numbers_[i]);
}

Layer& Sequential::layer(std::size_t i) {
  if (i >= size()) {
    throw ValueError("Sequential: no layer " + std::to_string(i) + " (it has " +
                     std::to_string(size()) + ")");
  }
  return static_cast<Layer&>(module_at(i));  // add() registers only layers
}

SparseAffine& Sequential::sparse_entry(const char* op) {
  if (!sparse_first_) {
    throw ValueError(std::string("Sequential::") + op +
                     ": sparse pixel rows need a SparseAffine first layer");
  }
  return static_cast<SparseAffine&>(module_at(0));  // add() made sure of it
}

void Sequential::require_training(const char* op) const {
  if (!is_training()) {
    throw ValueError(std::string("Sequential::") + op +
                     ": the model is in evaluation mode; call train() first");
  }
}

Tensor Sequential::forward_dense(const Tensor& x) {
  if (size() == 0) return x;
  ThreadScope threads(workers_.get());
  Tensor out = layer(0).forward(x);
  for (std::size_t i = 1; i < size(); ++i) out = layer(i).forward(out);
  return out;
}

Tensor Sequential::forward_sparse(const SparseBatch& x) {
  ThreadScope threads(workers_.get());
  Tensor out = sparse_entry(is_training() ? "gradient" : "predict").forward(x);
  for (std::size_t i = 1; i < size(); ++i) out = layer(i).forward(out);
  return out;
}

void Sequential::set_threads(int threads) {
  // one Workers for all: the layers run one after another on the calling thread, and a
  // helper that has just finished one layer's part is still awake for the next's
  workers_ = make_workers(threads);
}

Sequential& Sequential::set_loss(std::unique_ptr<LossLayer> loss) {
  loss_ = std::move(loss);
  return *this;
}

LossLayer& Sequential::loss_layer() {
  if (!loss_) throw ValueError("Sequential: no loss layer (call set_loss first)");
  return *loss_;
}

Tensor Sequential::predict(const Tensor& x) {
  EvalScope eval(*this);
  return forward_dense(x);
}

Tensor Sequential::predict(const SparseBatch& x) {
  EvalScope eval(*this);
  return forward_sparse(x);
}

double Sequential::loss(const Tensor& x, const Targets& t) {
  require_training("loss");
  return loss_layer().forward(forward_dense(x), t);
}

double Sequential::accuracy(const Tensor& x, const std::vector<std::int64_t>& t) {
  return nabla::accuracy(predict(x), t, "accuracy");
}

double Sequential::gradient(const Tensor& x, const Targets& t) {
  if (size() != 0) layer(0).set_input_grad(false);  // nobody needs dL/dx here
  return backward_all(loss(x, t));
}

double Sequential::gradient(const SparseBatch& x, const Targets& t) {
  require_training("gradient");
  return backward_all(loss_layer().forward(forward_sparse(x), t));
}

double Sequential::backward_all(double loss_value) {
  ThreadScope threads(workers_.get());
  Tensor dout = loss_layer().backward(1.0);
  for (std::size_t i = size(); i-- > 0;) dout = layer(i).backward(dout);
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
  if (size() != 0) layer(0).set_input_grad(x.requires_grad());
  Var out = x;
  for (std::size_t i = 0; i < size(); ++i) out = layer(i)(out);
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
