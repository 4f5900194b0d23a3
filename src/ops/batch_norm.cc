// Batch normalization: forward and backward (see nabla/batch_norm.h for the formulas).
#include "nabla/ops/batch_norm.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "nabla/ops/ops.h"
#include "ops/tensor_loops.h"

namespace nabla {

namespace {

// x seen as (outer, features, inner): (N, D, 1) or (N, C, H*W).
struct FeatureView {
  std::int64_t outer, features, inner;
  std::int64_t count() const { return outer * inner; }  // values per feature
  template <class F>
  void for_each(F&& f) const {  // f(flat index, feature)
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t c = 0; c < features; ++c)
        for (std::int64_t i = 0; i < inner; ++i) f((o * features + c) * inner + i, c);
  }
};

FeatureView view_of(const Tensor& x, const Tensor& gamma, const Tensor& beta, const char* op) {
  if (x.rank() != 2 && x.rank() != 4) {
    throw ShapeError(std::string(op) + ": expected an input (N, D) or (N, C, H, W), got " +
                     shape_str(x.shape()));
  }
  const Shape features{x.size(1)};
  for (const Tensor* t : {&gamma, &beta}) {
    if (t->shape() != features) {
      throw ShapeError(std::string(op) + ": expected gamma and beta " + shape_str(features) +
                       " for an input " + shape_str(x.shape()) + ", got " + shape_str(t->shape()));
    }
    kernels::check_same_dtype(x, *t, op);
  }
  if (x.size(0) == 0) throw ShapeError(std::string(op) + ": an empty batch has no statistics");
  const std::int64_t inner = x.rank() == 4 ? x.size(2) * x.size(3) : 1;
  return {x.size(0), x.size(1), inner};
}

// Per-feature sums of f(flat index) as doubles.
template <class F>
std::vector<double> feature_sums(const FeatureView& v, F&& f) {
  std::vector<double> sums(static_cast<std::size_t>(v.features), 0.0);
  v.for_each([&](std::int64_t k, std::int64_t c) { sums[static_cast<std::size_t>(c)] += f(k); });
  return sums;
}

}  // namespace

Tensor batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                          BatchNormCache* cache, BatchStats* stats) {
  const FeatureView v = view_of(x, gamma, beta, "batch_norm");
  const auto m = static_cast<double>(v.count());
  std::vector<double> mean = feature_sums(v, [&](std::int64_t k) { return x.get(k); });
  for (double& s : mean) s /= m;
  std::vector<double> var = feature_sums(v, [&](std::int64_t k) {
    const double d = x.get(k) - mean[static_cast<std::size_t>(k / v.inner % v.features)];
    return d * d;
  });
  std::vector<double> inv_std(var.size());
  for (std::size_t c = 0; c < var.size(); ++c) {
    var[c] /= m;
    inv_std[c] = 1.0 / std::sqrt(var[c] + eps);
  }
  if (stats != nullptr) {
    stats->mean = Tensor::from({v.features}, mean, x.dtype());
    stats->var = Tensor::from({v.features}, var, x.dtype());
  }
  Tensor xhat = Tensor::empty(x.shape(), x.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  v.for_each([&](std::int64_t k, std::int64_t c) {
    const auto f = static_cast<std::size_t>(c);
    const double h = (x.get(k) - mean[f]) * inv_std[f];
    xhat.set(k, h);
    y.set(k, gamma.get(c) * h + beta.get(c));
  });
  if (cache != nullptr) *cache = {std::move(xhat), std::move(inv_std), true};
  return y;
}

Tensor batch_norm_inference_forward(const Tensor& x, const Tensor& mean, const Tensor& var,
                                    const Tensor& gamma, const Tensor& beta, double eps,
                                    BatchNormCache* cache) {
  const FeatureView v = view_of(x, gamma, beta, "batch_norm_inference");
  if (mean.shape() != gamma.shape() || var.shape() != gamma.shape()) {
    throw ShapeError("batch_norm_inference: expected mean and variance " +
                     shape_str(gamma.shape()) + ", got " + shape_str(mean.shape()) + " and " +
                     shape_str(var.shape()));
  }
  std::vector<double> inv_std(static_cast<std::size_t>(v.features));
  for (std::int64_t c = 0; c < v.features; ++c) {
    inv_std[static_cast<std::size_t>(c)] = 1.0 / std::sqrt(var.get(c) + eps);
  }
  Tensor xhat = Tensor::empty(x.shape(), x.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  v.for_each([&](std::int64_t k, std::int64_t c) {
    const double h = (x.get(k) - mean.get(c)) * inv_std[static_cast<std::size_t>(c)];
    xhat.set(k, h);
    y.set(k, gamma.get(c) * h + beta.get(c));
  });
  if (cache != nullptr) *cache = {std::move(xhat), std::move(inv_std), false};
  return y;
}

BatchNormGrads batch_norm_backward(const Tensor& dout, const Tensor& gamma,
                                   const BatchNormCache& cache, bool input_grad) {
  const Tensor& xhat = cache.xhat;
  if (dout.shape() != xhat.shape()) {
    throw ShapeError("batch_norm backward: dout " + shape_str(dout.shape()) +
                     ", expected the forward's output shape " + shape_str(xhat.shape()));
  }
  const FeatureView v = view_of(xhat, gamma, gamma, "batch_norm backward");
  const std::vector<double> dbeta = feature_sums(v, [&](std::int64_t k) { return dout.get(k); });
  const std::vector<double> dgamma =
      feature_sums(v, [&](std::int64_t k) { return dout.get(k) * xhat.get(k); });
  BatchNormGrads grads;
  grads.dbeta = Tensor::from({v.features}, dbeta, gamma.dtype());
  grads.dgamma = Tensor::from({v.features}, dgamma, gamma.dtype());
  if (!input_grad) return grads;
  grads.dx = Tensor::empty(xhat.shape(), xhat.dtype());
  const auto m = static_cast<double>(v.count());
  v.for_each([&](std::int64_t k, std::int64_t c) {
    const auto f = static_cast<std::size_t>(c);
    const double g = gamma.get(c);
    const double dxhat = dout.get(k) * g;
    if (cache.batch_statistics) {
      // dxhat = dy gamma, so sum(dxhat) = gamma dbeta, sum(dxhat xhat) = gamma dgamma.
      grads.dx.set(k,
                   (m * dxhat - g * dbeta[f] - xhat.get(k) * g * dgamma[f]) * cache.inv_std[f] / m);
    } else {
      grads.dx.set(k, dxhat * cache.inv_std[f]);  // fixed statistics
    }
  });
  return grads;
}

namespace {

// A node that holds the cache; its backward is batch_norm_backward.
Var record_batch_norm(const char* op, Tensor y, std::shared_ptr<BatchNormCache> cache, const Var& x,
                      const Var& gamma, const Var& beta) {
  return record(
      op, std::move(y), {x, gamma, beta}, [x, gamma, beta, op, cache](const Tensor& dout) {
        BatchNormGrads g = batch_norm_backward(dout, gamma.value(), *cache, x.requires_grad());
        if (beta.requires_grad()) accumulate_grad(beta, g.dbeta, op);
        if (gamma.requires_grad()) accumulate_grad(gamma, g.dgamma, op);
        if (x.requires_grad()) accumulate_grad(x, g.dx, op);
      });
}

}  // namespace

Var batch_norm(const Var& x, const Var& gamma, const Var& beta, double eps, BatchStats* stats) {
  auto cache = std::make_shared<BatchNormCache>();
  Tensor y = batch_norm_forward(x.value(), gamma.value(), beta.value(), eps, cache.get(), stats);
  return record_batch_norm("batch_norm", std::move(y), std::move(cache), x, gamma, beta);
}

Var batch_norm_inference(const Var& x, const Tensor& mean, const Tensor& var, const Var& gamma,
                         const Var& beta, double eps) {
  auto cache = std::make_shared<BatchNormCache>();
  Tensor y = batch_norm_inference_forward(x.value(), mean, var, gamma.value(), beta.value(), eps,
                                          cache.get());
  return record_batch_norm("batch_norm_inference", std::move(y), std::move(cache), x, gamma, beta);
}

}  // namespace nabla
