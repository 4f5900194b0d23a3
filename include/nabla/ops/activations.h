// nabla/ops/activations.h — the activations' local derivatives, each written once.
//
// Each op is a forward and a backward function; the cache is what backward needs from
// forward. The graph ops relu, sigmoid, tanh and softmax (ops.h) record a node that
// holds the cache; the layers Relu, Sigmoid, Tanh and Softmax (nn/layers.h) keep it as a
// member, so that its storage is reused from step to step.
//
//   relu:     y = max(x, 0)                 dx = dout where x > 0, else 0 (cache: the mask)
//   sigmoid:  y = 1 / (1 + exp(-x))         dx = dout * (1 - y) * y      (cache: y)
//   tanh:     y = tanh(x)                   dx = dout * (1 - y^2)        (cache: y)
//   softmax:  y = exp(x) / sum(exp(x)), by row (stable)
//                                           dx = y * (dout - sum(dout * y, row))  (cache: y)
//
// The forward of sigmoid, tanh and softmax is the Tensor function of ops.h; its output is
// the cache. Backward never writes into dout. Shape mistakes throw ShapeError naming the
// op, the expected and the actual shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

class Workers;

struct ReluCache {
  std::vector<std::uint8_t> mask;  // 1 where x <= 0 (those outputs and gradients are 0)
  Shape shape;                     // the input's
};
// max(x, 0); fills `cache` unless null. A large input is done in two halves at once on
// the current workers (detail/workers.h; the same bits).
Tensor relu_forward(const Tensor& x, ReluCache* cache);
Tensor relu_backward(const Tensor& dout, const ReluCache& cache);

// y = sigmoid(x), tanh(x) or softmax(x) of the forward.
Tensor sigmoid_backward(const Tensor& dout, const Tensor& y);
Tensor tanh_backward(const Tensor& dout, const Tensor& y);
Tensor softmax_backward(const Tensor& dout, const Tensor& y);

}  // namespace nabla
NABLA_API_END
