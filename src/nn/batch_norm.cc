// BatchNorm: the batch_norm op in training (its graph kept for backward), running
// statistics in evaluation.
#include "nabla/ops/batch_norm.h"

#include <string>

#include "nabla/nn/cnn_layers.h"

namespace nabla {

BatchNorm::BatchNorm(std::int64_t features, double momentum, double eps, DType dtype)
    : momentum_(momentum), eps_(eps) {
  if (features < 1 || !(momentum >= 0 && momentum <= 1) || !(eps > 0)) {
    throw ValueError("BatchNorm: features " + std::to_string(features) + ", momentum " +
                     std::to_string(momentum) + ", eps " + std::to_string(eps) +
                     ": expected features >= 1, momentum in [0, 1] and eps > 0");
  }
  register_parameter("gamma", Tensor::ones({features}, dtype));
  register_parameter("beta", Tensor::zeros({features}, dtype));
  register_buffer("running_mean", Tensor::zeros({features}, dtype));
  register_buffer("running_var", Tensor::ones({features}, dtype));
}

Tensor BatchNorm::forward(const Tensor& x) {
  const std::int64_t d = gamma().shape()[0];
  if ((x.rank() != 2 && x.rank() != 4) || x.size(1) != d) {
    throw ShapeError("BatchNorm: input " + shape_str(x.shape()) + ", expected (N, " +
                     std::to_string(d) + ") or (N, " + std::to_string(d) + ", H, W)");
  }
  if (x.dtype() != gamma().dtype()) {
    throw ValueError(std::string("BatchNorm: input is ") + dtype_name(x.dtype()) +
                     " but gamma is " + dtype_name(gamma().dtype()));
  }
  if (!is_training()) {
    x_ = y_ = Var();
    // constants: nothing to record
    return batch_norm_inference(Var(x), running_mean(), running_var(), Var(gamma().value()),
                                Var(beta().value()), eps_)
        .value();
  }
  x_ = Var(x, input_grad_);
  BatchStats stats;
  y_ = batch_norm(x_, gamma(), beta(), eps_, &stats);
  // running = momentum * running + (1 - momentum) * batch statistic
  Tensor& mean = buffer_at(0);
  Tensor& var = buffer_at(1);
  for (std::int64_t c = 0; c < d; ++c) {
    mean.set(c, momentum_ * mean.get(c) + (1 - momentum_) * stats.mean.get(c));
    var.set(c, momentum_ * var.get(c) + (1 - momentum_) * stats.var.get(c));
  }
  return y_.value();
}

Tensor BatchNorm::backward(const Tensor& dout) {
  if (!y_.defined()) {
    throw ValueError("BatchNorm: backward needs a forward in training mode first");
  }
  if (dout.shape() != y_.shape()) {
    throw ShapeError("BatchNorm backward: dout " + shape_str(dout.shape()) + ", expected " +
                     shape_str(y_.shape()));
  }
  y_.backward(dout);  // the op's backward: into gamma's and beta's grads, and x_'s
  if (!input_grad_) return Tensor();
  return x_.grad();
}

}  // namespace nabla
