// The two-input layers of the scalar examples (apple, apple + orange).
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"

namespace nabla {

// ---- MulLayer: the gradient switcher ------------------------------------------------

double MulLayer::forward(double x, double y) {
  x_ = Tensor::scalar(x);
  y_ = Tensor::scalar(y);
  return x * y;
}

std::pair<double, double> MulLayer::backward(double dout) const {
  return {dout * y_.item(), dout * x_.item()};  // dx = dout * y, dy = dout * x
}

Tensor MulLayer::forward(const Tensor& x, const Tensor& y) {
  Tensor out = mul(x, y);
  x_ = x;
  y_ = y;
  return out;
}

std::pair<Tensor, Tensor> MulLayer::backward(const Tensor& dout) const {
  // a broadcast operand gets its gradient summed back to its own shape
  return {sum_to(mul(dout, y_), x_.shape()), sum_to(mul(dout, x_), y_.shape())};
}

Var MulLayer::operator()(const Var& x, const Var& y) {
  // The node keeps a copy of the layer, cache included (as Layer::operator() does): a
  // later forward of this layer, or its end, leaves the node's backward intact.
  Tensor out = forward(x.value(), y.value());
  return record("MulLayer", std::move(out), {x, y}, [layer = *this, x, y](const Tensor& dout) {
    auto [dx, dy] = layer.backward(dout);
    accumulate_grad(x, dx, "MulLayer");
    accumulate_grad(y, dy, "MulLayer");
  });
}

// ---- AddLayer: the gradient distributor ---------------------------------------------

double AddLayer::forward(double x, double y) {
  x_shape_ = {};
  y_shape_ = {};
  return x + y;
}

std::pair<double, double> AddLayer::backward(double dout) const { return {dout, dout}; }

Tensor AddLayer::forward(const Tensor& x, const Tensor& y) {
  Tensor out = add(x, y);
  x_shape_ = x.shape();
  y_shape_ = y.shape();
  return out;
}

std::pair<Tensor, Tensor> AddLayer::backward(const Tensor& dout) const {
  return {sum_to(dout, x_shape_), sum_to(dout, y_shape_)};
}

Var AddLayer::operator()(const Var& x, const Var& y) {
  // The node keeps a copy of the layer, cache included (as Layer::operator() does): a
  // later forward of this layer, or its end, leaves the node's backward intact.
  Tensor out = forward(x.value(), y.value());
  return record("AddLayer", std::move(out), {x, y}, [layer = *this, x, y](const Tensor& dout) {
    auto [dx, dy] = layer.backward(dout);
    accumulate_grad(x, dx, "AddLayer");
    accumulate_grad(y, dy, "AddLayer");
  });
}

}  // namespace nabla
