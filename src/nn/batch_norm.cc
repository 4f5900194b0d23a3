// BatchNorm: the batch_norm op's forward and backward (ops/batch_norm.h) in training,
// running statistics in evaluation.
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
    cache_ = BatchNormCache{};
    return batch_norm_inference_forward(x, running_mean(), running_var(), gamma().value(),
                                        beta().value(), eps_, nullptr);
  }
  BatchStats stats;
  Tensor y = batch_norm_forward(x, gamma().value(), beta().value(), eps_, &cache_, &stats);
  // running = momentum * running + (1 - momentum) * batch statistic
  Tensor& mean = buffer_at(0);
  Tensor& var = buffer_at(1);
  for (std::int64_t c = 0; c < d; ++c) {
    mean.set(c, momentum_ * mean.get(c) + (1 - momentum_) * stats.mean.get(c));
    var.set(c, momentum_ * var.get(c) + (1 - momentum_) * stats.var.get(c));
  }
  return y;
}

Tensor BatchNorm::backward(const Tensor& dout) {
  require_forward(cache_.xhat.defined(), dout, cache_.xhat.shape());
  BatchNormGrads g = batch_norm_backward(dout, gamma().value(), cache_, input_grad_);
  accumulate_grad(gamma(), g.dgamma, "BatchNorm");
  accumulate_grad(beta(), g.dbeta, "BatchNorm");
  return g.dx;
}

}  // namespace nabla
