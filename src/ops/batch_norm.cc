// Batch normalization: forward and backward (see nabla/batch_norm.h for the formulas).
#include "nabla/ops/batch_norm.h"

#include <cmath>
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

Var batch_norm(const Var& x, const Var& gamma, const Var& beta, double eps, BatchStats* stats) {
  const FeatureView v = view_of(x.value(), gamma.value(), beta.value(), "batch_norm");
  const auto m = static_cast<double>(v.count());
  const Tensor& xv = x.value();
  std::vector<double> mean = feature_sums(v, [&](std::int64_t k) { return xv.get(k); });
  for (double& s : mean) s /= m;
  std::vector<double> var = feature_sums(v, [&](std::int64_t k) {
    const double d = xv.get(k) - mean[static_cast<std::size_t>(k / v.inner % v.features)];
    return d * d;
  });
  std::vector<double> inv_std(var.size());
  for (std::size_t c = 0; c < var.size(); ++c) {
    var[c] /= m;
    inv_std[c] = 1.0 / std::sqrt(var[c] + eps);
  }
  if (stats != nullptr) {
    stats->mean = Tensor::from({v.features}, mean, xv.dtype());
    stats->var = Tensor::from({v.features}, var, xv.dtype());
  }
  Tensor xhat = Tensor::empty(xv.shape(), xv.dtype());
  Tensor y = Tensor::empty(xv.shape(), xv.dtype());
  v.for_each([&](std::int64_t k, std::int64_t c) {
    const auto f = static_cast<std::size_t>(c);
    const double h = (xv.get(k) - mean[f]) * inv_std[f];
    xhat.set(k, h);
    y.set(k, gamma.value().get(c) * h + beta.value().get(c));
  });
  return record(
      "batch_norm", std::move(y), {x, gamma, beta},
      [x, gamma, beta, v, m, xhat = std::move(xhat),
       inv_std = std::move(inv_std)](const Tensor& dout) {
        const std::vector<double> dbeta =
            feature_sums(v, [&](std::int64_t k) { return dout.get(k); });
        const std::vector<double> dgamma =
            feature_sums(v, [&](std::int64_t k) { return dout.get(k) * xhat.get(k); });
        if (beta.requires_grad()) {
          accumulate_grad(beta, Tensor::from({v.features}, dbeta, beta.dtype()), "batch_norm");
        }
        if (gamma.requires_grad()) {
          accumulate_grad(gamma, Tensor::from({v.features}, dgamma, gamma.dtype()), "batch_norm");
        }
        if (!x.requires_grad()) return;
        // dxhat = dy gamma, so sum(dxhat) = gamma dbeta, sum(dxhat xhat) = gamma dgamma.
        Tensor dx = Tensor::empty(x.shape(), x.dtype());
        v.for_each([&](std::int64_t k, std::int64_t c) {
          const auto f = static_cast<std::size_t>(c);
          const double g = gamma.value().get(c);
          const double dxhat = dout.get(k) * g;
          dx.set(k, (m * dxhat - g * dbeta[f] - xhat.get(k) * g * dgamma[f]) * inv_std[f] / m);
        });
        accumulate_grad(x, dx, "batch_norm");
      });
}

Var batch_norm_inference(const Var& x, const Tensor& mean, const Tensor& var, const Var& gamma,
                         const Var& beta, double eps) {
  const FeatureView v = view_of(x.value(), gamma.value(), beta.value(), "batch_norm_inference");
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
    const double h = (x.value().get(k) - mean.get(c)) * inv_std[static_cast<std::size_t>(c)];
    xhat.set(k, h);
    y.set(k, gamma.value().get(c) * h + beta.value().get(c));
  });
  return record(
      "batch_norm_inference", std::move(y), {x, gamma, beta},
      [x, gamma, beta, v, xhat = std::move(xhat),
       inv_std = std::move(inv_std)](const Tensor& dout) {
        // With fixed statistics: dx = dy gamma / sqrt(var + eps).
        if (beta.requires_grad()) {
          accumulate_grad(beta,
                          Tensor::from({v.features},
                                       feature_sums(v, [&](std::int64_t k) { return dout.get(k); }),
                                       beta.dtype()),
                          "batch_norm_inference");
        }
        if (gamma.requires_grad()) {
          accumulate_grad(
              gamma,
              Tensor::from(
                  {v.features},
                  feature_sums(v, [&](std::int64_t k) { return dout.get(k) * xhat.get(k); }),
                  gamma.dtype()),
              "batch_norm_inference");
        }
        if (!x.requires_grad()) return;
        Tensor dx = Tensor::empty(x.shape(), x.dtype());
        v.for_each([&](std::int64_t k, std::int64_t c) {
          dx.set(k, dout.get(k) * gamma.value().get(c) * inv_std[static_cast<std::size_t>(c)]);
        });
        accumulate_grad(x, dx, "batch_norm_inference");
      });
}

}  // namespace nabla
