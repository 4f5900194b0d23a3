// Layers as graph nodes: the node's backward is the layer's backward.
#include <string>

#include "nabla/layers.h"

namespace nabla {

Var Layer::operator()(const Var& x) {
  // The parameters are inputs of the node so that they appear in the graph and in its
  // topological order; they are leaves, so their grads come only from backward() below,
  // which adds into them directly.
  std::vector<Var> inputs{x};
  for (const Var& p : parameters()) inputs.push_back(p);
  std::string op = kind();
  return record(op, forward(x.value(), true), std::move(inputs), [this, x, op](const Tensor& dout) {
    Tensor dx = backward(dout);  // also dL/dW etc. into the parameters
    if (dx.defined()) accumulate_grad(x, dx, op.c_str());
  });
}

Var LossLayer::operator()(const Var& scores, const Targets& t) {
  std::string op = kind();
  Tensor loss = Tensor::scalar(forward(scores.value(), t), scores.dtype());
  return record(op, std::move(loss), {scores}, [this, scores, op](const Tensor& dout) {
    accumulate_grad(scores, backward(dout.item()), op.c_str());
  });
}

}  // namespace nabla
