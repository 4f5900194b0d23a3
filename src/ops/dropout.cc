// Inverted dropout: forward and backward through one mask, and the graph op.
#include "nabla/ops/dropout.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "nabla/ops/ops.h"

namespace nabla {

Tensor dropout_forward(const Tensor& x, double p, Rng& rng, DropoutCache* cache) {
  if (!(p >= 0 && p < 1)) {
    throw ValueError("dropout: the drop probability must be in [0, 1), got " + std::to_string(p));
  }
  // mask[i] = 1 / (1 - p) where the element is kept, 0 where it is dropped (dropped where
  // a uniform draw is below p: one draw per element, in order), and y = x * mask, in one
  // typed pass
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  const double keep = 1.0 / (1.0 - p);
  const std::uint64_t cut = rng.uniform_cut(p);
  std::mt19937_64& engine = rng.engine();
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* px = x.data<T>();
    T* pm = mask.data<T>();
    T* py = y.data<T>();
    const T kept = static_cast<T>(keep);
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      pm[i] = kept * static_cast<T>(engine() >= cut);  // (no branch on a coin flip)
      py[i] = px[i] * pm[i];
    }
  });
  if (cache != nullptr) cache->mask = std::move(mask);
  return y;
}

Tensor dropout_backward(const Tensor& dout, const DropoutCache& cache) {
  if (dout.shape() != cache.mask.shape()) {
    throw ShapeError("dropout backward: dout " + shape_str(dout.shape()) +
                     ", expected the forward's output shape " + shape_str(cache.mask.shape()));
  }
  return mul(dout, cache.mask);
}

Var dropout(const Var& x, double p, Rng& rng) {
  auto cache = std::make_shared<DropoutCache>();
  Tensor y = dropout_forward(x.value(), p, rng, cache.get());
  return record("dropout", std::move(y), {x}, [x, cache](const Tensor& dout) {
    accumulate_grad(x, dropout_backward(dout, *cache), "dropout");
  });
}

}  // namespace nabla
