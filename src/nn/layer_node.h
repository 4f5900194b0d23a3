// A layer recorded as a graph node that owns it: the node's backward is the layer's
// backward, and the layer's cache lives as long as the node. This is how the graph ops
// relu, sigmoid, tanh and softmax (ops.h) are made: their local derivatives are written
// once, in the layers.
#pragma once

#include <memory>
#include <utility>

#include "nabla/autograd/graph.h"
#include "nabla/nn/layers.h"

namespace nabla {

template <class L>
Var layer_node(const char* op, const Var& x) {
  auto layer = std::make_shared<L>();
  if (!x.requires_grad()) layer->eval();  // a cache only if backward can come
  Tensor y = layer->forward(x.value());
  return record(op, std::move(y), {x}, [layer, x, op](const Tensor& dout) {
    accumulate_grad(x, layer->backward(dout), op);
  });
}

}  // namespace nabla
