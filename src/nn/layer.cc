// What every layer shares: the checks before a backward, and a layer as a graph node (the
// node's backward is the layer's backward).
#include <string>

#include "nabla/nn/layers.h"

namespace nabla {

void Layer::require_forward(bool cached) const {
  if (!cached) throw ValueError(kind() + ": backward needs a forward in training mode first");
}

void Layer::require_forward(bool cached, const Tensor& dout, const Shape& expected) const {
  require_forward(cached);
  if (dout.shape() != expected) {
    throw ShapeError(kind() + " backward: dout " + shape_str(dout.shape()) +
                     ", expected the forward's output shape " + shape_str(expected));
  }
}

Var Layer::operator()(const Var& x) {
  // The forward runs on this layer, which then holds its latest cache as when used by
  // hand; the node keeps a copy of it taken now (the same parameters: handles), so a
  // later forward of this layer leaves the node's backward intact.
  Tensor y = forward(x.value());
  std::shared_ptr<Layer> layer(static_cast<Layer*>(copy().release()));
  // The parameters are inputs of the node so that they appear in the graph and in its
  // topological order; they are leaves, so their grads come only from backward() below,
  // which adds into them directly.
  std::vector<Var> inputs{x};
  for (const Var& p : parameters()) inputs.push_back(p);
  std::string op = kind();
  return record(op, std::move(y), std::move(inputs), [layer, x, op](const Tensor& dout) {
    Tensor dx = layer->backward(dout);  // also dL/dW etc. into the parameters
    if (dx.defined()) accumulate_grad(x, dx, op.c_str());
  });
}

Var LossLayer::operator()(const Var& scores, const Targets& t) {
  Tensor loss = Tensor::scalar(forward(scores.value(), t), scores.dtype());
  std::shared_ptr<LossLayer> layer = copy();  // as Layer::operator() does
  std::string op = kind();
  return record(op, std::move(loss), {scores}, [layer, scores, op](const Tensor& dout) {
    accumulate_grad(scores, layer->backward(dout.item()), op.c_str());
  });
}

}  // namespace nabla
