// nabla/layers.h — the textbook's layers: one interface, forward then backward(dout).
//
// Use a layer by hand, exactly like the textbook:
//
//   MulLayer mul_apple, mul_tax;
//   double apple_price = mul_apple.forward(100, 2);      // apple * apple_num
//   double price = mul_tax.forward(apple_price, 1.1);    // 220
//   auto [d_apple_price, d_tax] = mul_tax.backward(1);   // 1.1, 200
//   auto [d_apple, d_apple_num] = mul_apple.backward(d_apple_price);  // 2.2, 110
//
// or as a node of the graph: `Var y = relu_layer(x);` records a node whose backward
// calls the layer's backward. A layer caches what backward needs from its latest
// forward; each graph node keeps a copy of its own (sharing the parameters), so one
// layer may be applied several times in a graph. Layers are modules (module.h): named
// parameters, a train/eval mode.
//
// Parameters are Vars (value + grad); backward *adds* into their grads, each of the
// parameter's shape. backward never modifies the incoming dout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/module.h"
#include "nabla/ops/activations.h"

NABLA_API_BEGIN
namespace nabla {

// Class labels for a batch: class indices (N) or one-hot rows (N, C). For a loss over
// sequences (CrfLoss, nn/crf.h) also the sequences' lengths: the rows are sentences'
// tokens one after another, lengths[s] of them for sentence s (summing to N).
class Targets {
 public:
  Targets(std::vector<std::int64_t> indices) : indices_(std::move(indices)) {}  // NOLINT
  Targets(Tensor one_hot) : one_hot_(std::move(one_hot)) {}                     // NOLINT
  Targets(std::vector<std::int64_t> indices, std::vector<std::int64_t> lengths)
      : indices_(std::move(indices)), lengths_(std::move(lengths)) {}
  // The sequences' lengths; empty when each row stands alone.
  const std::vector<std::int64_t>& lengths() const { return lengths_; }
  bool is_one_hot() const { return one_hot_.defined(); }
  std::int64_t size() const;
  // Real-valued targets (batch, outputs), as a regression loss takes them: the tensor given
  // (Targets(Tensor)) in `dtype`; ShapeError naming `op` and both shapes for another shape,
  // ValueError for class indices.
  Tensor values(std::int64_t batch, std::int64_t outputs, DType dtype, const char* op) const;
  // Class indices: given, or the argmax of each one-hot row. Throws ValueError if an
  // index is outside [0, num_classes) or the count is not `batch` (op names the caller).
  std::vector<std::int64_t> indices(std::int64_t batch, std::int64_t num_classes,
                                    const char* op) const;
  // One-hot rows (batch, num_classes) in the given dtype, checked like indices().
  Tensor one_hot(std::int64_t batch, std::int64_t num_classes, DType dtype, const char* op) const;

 private:
  std::vector<std::int64_t> indices_;
  std::vector<std::int64_t> lengths_;
  Tensor one_hot_;
};

// ---- two-input layers of the scalar examples ----------------------------------------

// out = x * y. Backward "switches" the inputs: dx = dout * y, dy = dout * x.
class MulLayer {
 public:
  double forward(double x, double y);
  std::pair<double, double> backward(double dout) const;
  Tensor forward(const Tensor& x, const Tensor& y);
  std::pair<Tensor, Tensor> backward(const Tensor& dout) const;
  Var operator()(const Var& x, const Var& y);

 private:
  Tensor x_, y_;
};

// out = x + y. Backward distributes dout unchanged to both inputs.
class AddLayer {
 public:
  double forward(double x, double y);
  std::pair<double, double> backward(double dout) const;
  Tensor forward(const Tensor& x, const Tensor& y);
  std::pair<Tensor, Tensor> backward(const Tensor& dout) const;
  Var operator()(const Var& x, const Var& y);

 private:
  Shape x_shape_, y_shape_;
};

// ---- one-input layers ---------------------------------------------------------------

// A layer is a module with one input and one output, and a backward.
class Layer : public Module {
 public:
  // Computes the output. In training mode (the default; see Module::train) it keeps what
  // backward needs; in evaluation mode it keeps nothing (inference).
  virtual Tensor forward(const Tensor& x) = 0;
  // dL/d(input) from dL/d(output); adds dL/d(parameter) into each parameter's grad.
  // Returns an undefined tensor when dL/d(input) is not wanted (set_input_grad).
  virtual Tensor backward(const Tensor& dout) = 0;
  // As a graph node: forward on this layer, and a node that keeps a copy of it (the same
  // parameters, the cache of this forward), so one layer can be applied several times in
  // one graph.
  Var operator()(const Var& x);
  // When false, backward may skip dL/d(input) (a first layer, whose input is data, needs
  // none); layers whose dX is costly (Affine) do.
  void set_input_grad(bool needed) { input_grad_ = needed; }

 protected:
  // The checks every backward makes first: ValueError "<kind>: backward needs a forward in
  // training mode first" unless `cached`; with `expected`, ShapeError "<kind> backward:
  // dout (..), expected the forward's output shape (..)" unless dout has that shape.
  void require_forward(bool cached) const;
  void require_forward(bool cached, const Tensor& dout, const Shape& expected) const;

  bool input_grad_ = true;
};

// Keeps a mask of x <= 0 and zeroes those; backward zeroes dout there.
class Relu : public Layer {
 public:
  std::string kind() const override { return "Relu"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Relu>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  // The mask of the latest forward: 1 where x <= 0; and the shape of that input.
  const std::vector<std::uint8_t>& mask() const { return cache_.mask; }
  const Shape& mask_shape() const { return cache_.shape; }

 private:
  ReluCache cache_;
};

// Keeps its output y; backward = dout * (1 - y) * y.
class Sigmoid : public Layer {
 public:
  std::string kind() const override { return "Sigmoid"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Sigmoid>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  // The output of the latest forward in training mode (the textbook's `out`).
  const Tensor& output() const { return y_; }

 private:
  Tensor y_;
};

// Keeps its output y; backward = dout * (1 - y^2).
class Tanh : public Layer {
 public:
  std::string kind() const override { return "Tanh"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Tanh>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  const Tensor& output() const { return y_; }  // of the latest forward in training mode

 private:
  Tensor y_;
};

// Y = X.W + b with X (N, D) — an input (N, C, H, W) is flattened to (N, C*H*W) and dX
// comes back in the input's shape. dX = dY.W^T, dW = X^T.dY, db = sum of dY over axis 0.
class Affine : public Layer {
 public:
  // W (D, M), b (M).
  Affine(Tensor W, Tensor b);
  // W ~ init_std * N(0, 1), b = 0.
  Affine(std::int64_t in, std::int64_t out, double init_std, Rng& rng, DType dtype = DType::f32);
  std::string kind() const override { return "Affine"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Affine>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  Var& W() { return parameter_at(0); }
  Var& b() { return parameter_at(1); }
  const Var& W() const { return parameter_at(0); }
  const Var& b() const { return parameter_at(1); }
  // The input of the latest forward in training mode, flattened to (N, D).
  const Tensor& input() const { return x_; }

 protected:
  Tensor add_bias(std::int64_t n) const;  // (n, M), b in every row
  void forget_input();                    // drops the cached input

 private:
  Tensor x_;  // (N, D), flattened
  Shape x_shape_;
};

// The local derivatives of Y = X.W + b (X (N, D), W (D, M), b (M)), written once: Affine's
// backward and SigmoidTwoLayerNet's hand-written gradient use them.
// Large products split between the current workers' threads (ops.h's gemm).
void affine_weight_grad(const Tensor& x, const Tensor& dY, Tensor& dW);  // dW += X^T.dY
void affine_bias_grad(const Tensor& dY, Tensor& db);          // db += sum of dY over the rows
Tensor affine_input_grad(const Tensor& dY, const Tensor& W);  // dX = dY.W^T

// Row-wise softmax (stable). Backward: dx = y * (dout - sum(dout * y, row)).
class Softmax : public Layer {
 public:
  std::string kind() const override { return "Softmax"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Softmax>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;

 private:
  Tensor y_;
};

// ---- loss layers ---------------------------------------------------------------------

class LossLayer {
 public:
  virtual ~LossLayer() = default;
  virtual std::string kind() const = 0;
  // Mean loss over the batch of scores (N, C).
  virtual double forward(const Tensor& scores, const Targets& t) = 0;
  // dL/d(scores) times dout.
  virtual Tensor backward(double dout = 1.0) = 0;
  // As a graph node: a scalar Var (the node keeps a copy of the layer).
  Var operator()(const Var& scores, const Targets& t);
  // A copy of this loss layer, cache included.
  virtual std::unique_ptr<LossLayer> copy() const = 0;
};

// Softmax then cross-entropy, fused: backward is (y - t) / N. The loss is taken from the
// scores, -log y_t = log sum_j exp(s_j - max) + max - s_t: numerically stable, free of
// log(0) without a delta, and exactly the function whose gradient backward returns.
class SoftmaxWithLoss : public LossLayer {
 public:
  std::string kind() const override { return "SoftmaxWithLoss"; }
  std::unique_ptr<LossLayer> copy() const override {
    return std::make_unique<SoftmaxWithLoss>(*this);
  }
  double forward(const Tensor& scores, const Targets& t) override;
  Tensor backward(double dout = 1.0) override;
  const Tensor& probabilities() const { return y_; }
  // The latest forward's mean loss, and its targets: class indices, or one-hot rows.
  double loss() const { return loss_; }
  const std::vector<std::int64_t>& labels() const { return labels_; }
  const Tensor& one_hot_targets() const { return t_; }

 private:
  double loss_ = 0.0;
  Tensor y_;                          // softmax output (N, C)
  std::vector<std::int64_t> labels_;  // when given as indices
  Tensor t_;                          // when given one-hot
};

// Multiclass SVM (hinge) loss: L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin),
// averaged over the batch.
class SvmLoss : public LossLayer {
 public:
  explicit SvmLoss(double margin = 1.0) : margin_(margin) {}
  std::string kind() const override { return "SvmLoss"; }
  std::unique_ptr<LossLayer> copy() const override { return std::make_unique<SvmLoss>(*this); }
  double forward(const Tensor& scores, const Targets& t) override;
  Tensor backward(double dout = 1.0) override;
  // Per-sample losses L_i of the latest forward.
  const std::vector<double>& sample_losses() const { return sample_losses_; }

 private:
  double margin_;
  Tensor scores_;
  std::vector<std::int64_t> labels_;
  std::vector<double> sample_losses_;
};

// The identity output with the sum-of-squares error, the textbook's pairing for
// regression: for outputs y (N, K) and real targets t (N, K),
//   L = (1/N) sum_i 1/2 sum_k (y_ik - t_ik)^2,   dL/dy = (y - t) / N,
// the same (y - t) / N as SoftmaxWithLoss's. (The mean squared error per output is
// 2 L / K.) The targets are a Tensor (Targets::values); class indices are refused.
class MeanSquaredLoss : public LossLayer {
 public:
  std::string kind() const override { return "MeanSquaredLoss"; }
  std::unique_ptr<LossLayer> copy() const override {
    return std::make_unique<MeanSquaredLoss>(*this);
  }
  double forward(const Tensor& y, const Targets& t) override;
  Tensor backward(double dout = 1.0) override;

 private:
  Tensor diff_;  // y - t of the latest forward, (N, K): all that backward needs
};

// Cross-entropy error of probabilities y (N, C): mean over the batch of -log(y[t] + 1e-7).
double cross_entropy_error(const Tensor& y, const Targets& t);

}  // namespace nabla
NABLA_API_END
