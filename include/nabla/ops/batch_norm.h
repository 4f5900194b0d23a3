// nabla/batch_norm.h — batch normalization as graph ops.
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
// them: then y is a fixed affine map of x.
#pragma once

#include "nabla/autograd/graph.h"
#include "nabla/core/tensor.h"

namespace nabla {

// The per-feature statistics of one batch: mean and (biased) variance, shape (D) or (C).
struct BatchStats {
  Tensor mean, var;
};

// x (N, D) or (N, C, H, W); gamma and beta (D) or (C). If `stats` is given it receives
// the batch's mean and variance (for running averages).
Var batch_norm(const Var& x, const Var& gamma, const Var& beta, double eps = 1e-5,
               BatchStats* stats = nullptr);

// The same normalisation with a given mean and variance (running statistics).
Var batch_norm_inference(const Var& x, const Tensor& mean, const Tensor& var, const Var& gamma,
                         const Var& beta, double eps = 1e-5);

}  // namespace nabla
