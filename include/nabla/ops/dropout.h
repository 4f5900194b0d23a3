// nabla/ops/dropout.h — inverted dropout: forward, backward, and the graph op.
//
// In training each element is kept with probability 1 - p and scaled by 1 / (1 - p), or
// set to 0; backward passes the gradient through the same mask and scale. Because of
// the scale, the expected output equals the input and inference uses x as it is (a
// Dropout layer in eval mode is the identity). The mask comes from the caller's Rng, so
// a layer with its own seeded stream gives the same masks again after a resume.
#pragma once

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

// What backward needs: the mask, 1 / (1 - p) where an element was kept, 0 where dropped.
struct DropoutCache {
  Tensor mask;
};
// p in [0, 1): the probability of dropping an element. Draws one number from rng per
// element; fills `cache` unless null.
Tensor dropout_forward(const Tensor& x, double p, Rng& rng, DropoutCache* cache);
// dout through the same mask and scale.
Tensor dropout_backward(const Tensor& dout, const DropoutCache& cache);

// The graph op: a node that holds the cache.
Var dropout(const Var& x, double p, Rng& rng);

}  // namespace nabla
NABLA_API_END
