// nabla/network.h — layers in order with named parameters, and the textbook networks.
//
//   Rng rng(42);
//   Sequential net = make_two_layer_net(784, 50, 10, 0.01, rng);   // Affine-Relu-Affine
//   double loss = net.gradient(x_batch, t_batch);   // forward + backward
//   for (Var& p : net.parameters()) p.value() -= lr * p.grad();   (see optim.h)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/nn/sparse_affine.h"

NABLA_API_BEGIN
namespace nabla {

class Workers;  // nabla/detail/workers.h

// Layers in order and a loss layer: a module like any other, whose layers are its
// submodules. Their state is named as in the textbook: the parameters of the k-th layer
// that has state get the suffix k (W1, b1, W2, b2, ...; a buffer running_mean3); a layer
// with a random stream only (Dropout) names it by its position: layer8.rng.
class Sequential : public Module {
 public:
  Sequential() = default;
  // A copy shares the layers (Module::copy); the loss layer is copied.
  Sequential(const Sequential& other);
  Sequential& operator=(const Sequential& other);
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;
  ~Sequential() override = default;

  std::string kind() const override { return "Sequential"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Sequential>(*this); }

  // Appends a layer. Its parameters are renamed with the 1-based count of layers with
  // state so far: the first Affine's W and b become W1 and b1, the second's W2 and b2.
  Sequential& add(std::unique_ptr<Layer> layer);
  // The same for a first layer that takes sparse pixel rows: the network then accepts a
  // SparseBatch in predict and gradient.
  Sequential& add(std::unique_ptr<SparseAffine> layer);
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    add(std::move(layer));
    return ref;
  }
  Sequential& set_loss(std::unique_ptr<LossLayer> loss);

  std::size_t size() const { return module_count(); }
  Layer& layer(std::size_t i);
  LossLayer& loss_layer();

  // Scores (N, C), in evaluation mode (the mode is restored after), keeping nothing.
  Tensor predict(const Tensor& x);
  // The same from sparse pixel rows; needs a SparseAffine first layer (ValueError if none).
  Tensor predict(const SparseBatch& x);
  // Mean loss of the batch (forward only, keeping the caches for backward).
  double loss(const Tensor& x, const Targets& t);
  // Fraction of rows whose argmax equals the label.
  double accuracy(const Tensor& x, const std::vector<std::int64_t>& t);
  // Backprop: forward, then backward in reverse layer order. Adds dL/dp into every
  // parameter's grad (zero them first: zero_grad). Returns the loss. Needs training mode.
  double gradient(const Tensor& x, const Targets& t);
  // The same for a batch of sparse pixel rows (the SparseAffine first layer multiplies
  // the non-zero pixels only).
  double gradient(const SparseBatch& x, const Targets& t);
  // Threads for the layers that split their work (1: the calling thread only): one
  // Workers, lent to the ops of every forward and backward (detail/workers.h's ThreadScope).
  // A copy starts with one thread. Results do not depend on it.
  void set_threads(int threads);
  // Whether the first layer is a SparseAffine, so that a SparseBatch may go in.
  bool takes_sparse_rows() const { return sparse_first_; }
  // Sets every parameter's gradient to zero (keeping its storage).
  void zero_grad();
  // Central differences, one parameter element at a time (slow); one tensor per
  // parameter, in parameters() order, each of the parameter's shape.
  std::vector<Tensor> numerical_gradient(const Tensor& x, const Targets& t, double h = 1e-4);

  // The same network recorded as a graph (each layer one node), for pictures.
  Var forward_graph(const Var& x, const Targets& t);

 protected:
  std::string state_name(std::size_t i, const std::string& name) const override;

 private:
  Tensor forward_dense(const Tensor& x);
  Tensor forward_sparse(const SparseBatch& x);
  // Backward through the loss layer and every layer in reverse order; returns loss_value.
  double backward_all(double loss_value);
  // The first layer when it takes sparse rows; ValueError naming `op` otherwise.
  SparseAffine& sparse_entry(const char* op);
  void require_training(const char* op) const;

  std::unique_ptr<LossLayer> loss_;
  std::vector<int> numbers_;          // per layer: its suffix (0 for a layer without state)
  int numbered_ = 0;                  // layers with state so far
  bool sparse_first_ = false;         // the first layer is a SparseAffine
  std::shared_ptr<Workers> workers_;  // set_threads's; none for one thread
};

// The textbook's TwoLayerNet: Affine1 -> Relu1 -> Affine2, SoftmaxWithLoss;
// W ~ weight_init_std * N(0, 1), b = 0.
Sequential make_two_layer_net(std::int64_t input_size, std::int64_t hidden_size,
                              std::int64_t output_size, double weight_init_std, Rng& rng,
                              DType dtype = DType::f32);

// The non-modular variant with a sigmoid hidden layer and a hand-written gradient:
// a1 = x.W1 + b1, z1 = sigmoid(a1), a2 = z1.W2 + b2, y = softmax(a2), dy = (y - t) / N,
// dW2 = z1^T.dy, db2 = sum(dy, 0), dz1 = dy.W2^T, da1 = dz1 * (1 - z1) * z1,
// dW1 = x^T.da1, db1 = sum(da1, 0).
class SigmoidTwoLayerNet {
 public:
  SigmoidTwoLayerNet(std::int64_t input_size, std::int64_t hidden_size, std::int64_t output_size,
                     double weight_init_std, Rng& rng, DType dtype = DType::f64);
  // W1, b1, W2, b2.
  std::vector<Var> parameters() const { return {W1_, b1_, W2_, b2_}; }
  Tensor predict(const Tensor& x) const;  // softmax probabilities
  double loss(const Tensor& x, const Targets& t) const;
  double accuracy(const Tensor& x, const std::vector<std::int64_t>& t) const;
  // The hand-written backward above; returns dW1, db1, dW2, db2.
  std::vector<Tensor> gradient(const Tensor& x, const Targets& t) const;
  std::vector<Tensor> numerical_gradient(const Tensor& x, const Targets& t, double h = 1e-4) const;
  // The same network built from graph ops, for checking the hand-written gradient.
  Var loss_graph(const Tensor& x, const Targets& t) const;

 private:
  Var W1_, b1_, W2_, b2_;
};

}  // namespace nabla
NABLA_API_END
