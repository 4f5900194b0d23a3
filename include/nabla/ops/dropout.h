// nabla/dropout.h — inverted dropout as a graph op.
//
// In training each element is kept with probability 1 - p and scaled by 1 / (1 - p), or
// set to 0; backward passes the gradient through the same mask and scale. Because of
// the scale, the expected output equals the input and inference uses x as it is (a
// Dropout layer in eval mode is the identity). The mask comes from the caller's Rng, so
// a layer with its own seeded stream gives the same masks again after a resume.
#pragma once

#include "nabla/autograd/graph.h"
#include "nabla/core/tensor.h"

namespace nabla {

// p in [0, 1): the probability of dropping an element.
Var dropout(const Var& x, double p, Rng& rng);

}  // namespace nabla
