// nabla/cnn_layers.h — the layers of convolutional networks (the textbook's chapters 7-8).
//
// Each wraps an op of conv.h, batch_norm.h or dropout.h and calls that op's derivative,
// so every local derivative is written once. Images are (N, C, H, W).
//
//   Rng rng(42);
//   Sequential net;
//   net.emplace<Conv2D>(1, 30, 5, 1, 0, 0.01, rng);  // (N, 1, 28, 28) -> (N, 30, 24, 24)
//   net.emplace<Relu>();
//   net.emplace<MaxPool2D>(2);                       // -> (N, 30, 12, 12)
//   net.emplace<Affine>(30 * 12 * 12, 100, 0.01, rng);  // Affine flattens (N, C, H, W)
//
// BatchNorm and Dropout behave differently in training and evaluation (Module::train):
// BatchNorm normalises with the batch's statistics and updates its running ones (buffers)
// in training, and uses the running ones in evaluation; Dropout drops in training and is
// the identity in evaluation. Dropout draws its masks from a random stream of its own
// (Module::register_rng), which checkpoints save, so that a resumed run draws the same
// masks as an uninterrupted one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/batch_norm.h"
#include "nabla/ops/conv.h"
#include "nabla/ops/dropout.h"
#include "nabla/ops/pool.h"

NABLA_API_BEGIN
namespace nabla {

// x (N, C, H, W) -> (N, F, OH, OW) with OH = (H + 2 pad - KH) / stride + 1 (likewise OW);
// parameters "W" (F, C, KH, KW) and "b" (F).
class Conv2D : public Layer {
 public:
  Conv2D(Tensor W, Tensor b, std::int64_t stride = 1, std::int64_t pad = 0);
  // W ~ init_std * N(0, 1), b = 0; square kernels.
  Conv2D(std::int64_t in_channels, std::int64_t filters, std::int64_t kernel, std::int64_t stride,
         std::int64_t pad, double init_std, Rng& rng, DType dtype = DType::f32);
  std::string kind() const override { return "Conv2D"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Conv2D>(*this); }
  Tensor forward(const Tensor& x) override;
  // (With workers, the batch's images split between threads: forward, backward and
  // evaluation.)
  Tensor backward(const Tensor& dout) override;
  Var& W() { return parameter_at(0); }
  Var& b() { return parameter_at(1); }
  const Var& W() const { return parameter_at(0); }
  const Var& b() const { return parameter_at(1); }
  const Window2d& window() const { return win_; }

 private:
  Window2d win_;
  ConvCache cache_;  // what backward needs, kept in training mode
};

// The max of each size x size window, sliding by stride (0: = size); padding never wins.
// Backward routes each output's gradient to its window's maximum.
class MaxPool2D : public Layer {
 public:
  explicit MaxPool2D(std::int64_t size, std::int64_t stride = 0, std::int64_t pad = 0);
  std::string kind() const override { return "MaxPool2D"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<MaxPool2D>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  const Window2d& window() const { return win_; }

 private:
  Window2d win_;
  PoolCache cache_;
};

// The mean of each size x size window (padding counts as zeros); backward spreads each
// output's gradient evenly over its window.
class AvgPool2D : public Layer {
 public:
  explicit AvgPool2D(std::int64_t size, std::int64_t stride = 0, std::int64_t pad = 0);
  std::string kind() const override { return "AvgPool2D"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<AvgPool2D>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  const Window2d& window() const { return win_; }

 private:
  Window2d win_;
  Shape x_shape_;  // of the latest forward in training mode
};

// Batch normalisation: x (N, D) per feature, x (N, C, H, W) per channel (D or C =
// features). Parameters "gamma" (ones) and "beta" (zeros); buffers "running_mean"
// (zeros) and "running_var" (ones). In training each forward updates them:
//   running = momentum * running + (1 - momentum) * batch statistic
// (the biased batch variance, as the textbook does).
class BatchNorm : public Layer {
 public:
  explicit BatchNorm(std::int64_t features, double momentum = 0.9, double eps = 1e-5,
                     DType dtype = DType::f32);
  std::string kind() const override { return "BatchNorm"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<BatchNorm>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  Var& gamma() { return parameter_at(0); }
  Var& beta() { return parameter_at(1); }
  const Var& gamma() const { return parameter_at(0); }
  const Var& beta() const { return parameter_at(1); }
  const Tensor& running_mean() const { return buffer_at(0); }
  const Tensor& running_var() const { return buffer_at(1); }

 private:
  double momentum_, eps_;
  BatchNormCache cache_;  // of the latest forward in training mode (xhat undefined: none)
};

// Inverted dropout with drop probability p in [0, 1): in training each element is zeroed
// with probability p and the others are scaled by 1 / (1 - p); in evaluation, the
// identity. Its random stream is registered as "rng", seeded with `seed`.
class Dropout : public Layer {
 public:
  Dropout(double p, std::uint64_t seed);
  std::string kind() const override { return "Dropout"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Dropout>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;
  double p() const { return p_; }

 private:
  double p_;
  DropoutCache cache_;  // of the latest forward in training mode (mask undefined: none)
};

// (N, ...) -> (N, product of the other axes); backward reshapes dout back.
class Flatten : public Layer {
 public:
  std::string kind() const override { return "Flatten"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Flatten>(*this); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dout) override;

 private:
  Shape x_shape_;
};

}  // namespace nabla
NABLA_API_END
