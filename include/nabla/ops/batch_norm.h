// nabla/ops/batch_norm.h — batch normalization: forward, backward, and the graph ops.
//
// Each feature (a column of an (N, D) batch, or a channel of an (N, C, H, W) batch) is
// normalised over the batch and then scaled and shifted by learned gamma and beta:
//
//   mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps),
//   y = gamma * xhat + beta
//
// In training the batch's own mu and var are used, and the gradient flows through them
// too (the textbook's backward):
//
//   dbeta = sum(dy),  dgamma = sum(dy * xhat),  dxhat = dy * gamma,
//   dx = (M dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)) / (M sqrt(var + eps))
//
// with sums over the M = N (or N*H*W) values of a feature. For inference a BatchNorm
// layer keeps running averages of mu and var (buffers) and batch_norm_inference uses
// them: then y is a fixed affine map of x, and dx = dy * gamma / sqrt(var + eps).
//
// The derivative is written once, in batch_norm_backward: the graph ops record a node
// that holds the cache, the BatchNorm layer (nn/cnn_layers.h) keeps it as a member.
#pragma once

#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

// The per-feature statistics of one batch: mean and (biased) variance, shape (D) or (C).
struct BatchStats {
  Tensor mean, var;
};

// What backward needs from forward.
struct BatchNormCache {
  Tensor xhat;                   // (x - mean) / sqrt(var + eps), x's shape
  std::vector<double> inv_std;   // 1 / sqrt(var + eps), per feature
  bool batch_statistics = true;  // the batch's own mean and var (training), or given ones
};
struct BatchNormGrads {
  Tensor dx;  // undefined unless asked for
  Tensor dgamma, dbeta;
};

// x (N, D) or (N, C, H, W); gamma and beta (D) or (C) -> y, x's shape. Normalises with the
// batch's statistics (which `stats` receives, if given); fills `cache` unless null.
Tensor batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                          BatchNormCache* cache, BatchStats* stats = nullptr);
// The same with a given mean and variance (running statistics).
Tensor batch_norm_inference_forward(const Tensor& x, const Tensor& mean, const Tensor& var,
                                    const Tensor& gamma, const Tensor& beta, double eps,
                                    BatchNormCache* cache);
// From dout (x's shape): dgamma, dbeta, and dx when input_grad.
BatchNormGrads batch_norm_backward(const Tensor& dout, const Tensor& gamma,
                                   const BatchNormCache& cache, bool input_grad);

// The graph ops. x (N, D) or (N, C, H, W); gamma and beta (D) or (C). If `stats` is given it
// receives the batch's mean and variance (for running averages).
Var batch_norm(const Var& x, const Var& gamma, const Var& beta, double eps = 1e-5,
               BatchStats* stats = nullptr);

// The same normalisation with a given mean and variance (running statistics).
Var batch_norm_inference(const Var& x, const Tensor& mean, const Tensor& var, const Var& gamma,
                         const Var& beta, double eps = 1e-5);

}  // namespace nabla
NABLA_API_END
