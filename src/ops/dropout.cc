// Inverted dropout: forward and backward through one mask.
#include "nabla/ops/dropout.h"

#include <string>

#include "nabla/ops/ops.h"

namespace nabla {

Var dropout(const Var& x, double p, Rng& rng) {
  if (!(p >= 0 && p < 1)) {
    throw ValueError("dropout: the drop probability must be in [0, 1), got " + std::to_string(p));
  }
  // mask[i] = 1 / (1 - p) where the element is kept, 0 where it is dropped
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  const double keep = 1.0 / (1.0 - p);
  for (std::int64_t i = 0; i < mask.numel(); ++i) mask.set(i, rng.uniform() < p ? 0.0 : keep);
  Tensor y = mul(x.value(), mask);
  return record("dropout", std::move(y), {x}, [x, mask = std::move(mask)](const Tensor& dout) {
    accumulate_grad(x, mul(dout, mask), "dropout");
  });
}

}  // namespace nabla
