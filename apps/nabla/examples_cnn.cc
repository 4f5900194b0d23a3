// The convolutional-network chapter's small cases: im2col of a 4x4 image, max pooling's
// gradient routing, and batch normalization forward and backward on a 3x2 batch.
#include <ostream>

#include "examples.h"
#include "nabla/ops/batch_norm.h"
#include "nabla/ops/conv.h"
#include "nabla/ops/ops.h"
#include "nabla/ops/pool.h"

namespace nabla::cli {

namespace {

// x = 1..16 as a 1x1x4x4 image.
Tensor counting_image() {
  Tensor x({1, 1, 4, 4}, DType::f64);
  for (std::int64_t i = 0; i < 16; ++i) x.set(i, static_cast<double>(i + 1));
  return x;
}

// Each 2x2 receptive field becomes a row; the convolution is then one matrix product.
Var im2col_example(std::ostream& out) {
  const Tensor x = counting_image();
  print(out, "x", x.reshape({4, 4}));
  const Tensor cols = im2col(x, {2, 2, 1, 0});
  print(out, "im2col(x), 2x2 filter, stride 1, pad 0 (one field a row)", cols);
  Var w = Var::parameter(Tensor::from({1, 1, 2, 2}, {1, 0, 0, -1}), "w");
  Var b = Var::parameter(Tensor::from({1}, {0}), "b");
  Var image = Var::parameter(x, "x");
  Var y = conv2d(image, w, b).set_name("y");
  out << "filter w = [[1, 0], [0, -1]]: y = im2col(x) . w^T, each top-left minus bottom-right\n";
  print(out, "y", y.value().reshape({3, 3}));
  y.backward(Tensor::ones(y.shape(), DType::f64));
  print(out, "dw (dy = 1: each filter weight's sum over the fields)", w.grad().reshape({2, 2}));
  print(out, "dx (col2im: overlapping fields add up)", image.grad().reshape({4, 4}));
  return y;
}

// The gradient of each window goes to the element that was the maximum, nowhere else.
Var max_pool_example(std::ostream& out) {
  Var x = Var::parameter(
      Tensor::from({1, 1, 4, 4}, {1, 2, 0, 1, 3, 0, 2, 4, 1, 5, 6, 1, 0, 2, 3, 0}), "x");
  Var y = max_pool2d(x, 2, 2).set_name("y");
  print(out, "x", x.value().reshape({4, 4}));
  print(out, "y = max_pool2d(x, 2, stride 2)", y.value().reshape({2, 2}));
  const Tensor dout = Tensor::from({1, 1, 2, 2}, {0.1, 0.2, 0.3, 0.4});
  y.backward(dout);
  print(out, "dy", dout.reshape({2, 2}));
  print(out, "dx (each dy routed to its window's maximum)", x.grad().reshape({4, 4}));
  return y;
}

// Forward: each column normalised over the batch. Backward: the textbook's formula.
Var batch_norm_example(std::ostream& out) {
  Var x = Var::parameter(Tensor::from({3, 2}, {1, 2, 3, 6, 5, 10}), "x");
  Var gamma = Var::parameter(Tensor::from({2}, {1, 1}), "gamma");
  Var beta = Var::parameter(Tensor::from({2}, {0, 0}), "beta");
  BatchStats stats;
  Var y = batch_norm(x, gamma, beta, 1e-7, &stats).set_name("y");
  print(out, "x", x);
  print(out, "mean", stats.mean);
  print(out, "var", stats.var);
  print(out, "y = (x - mean) / sqrt(var + eps) (gamma 1, beta 0)", y);
  const Tensor dout = Tensor::from({3, 2}, {1, 0, 0, 1, 0, 0});
  y.backward(dout);
  print(out, "dy", dout);
  print_grad(out, "dx", x);
  print_grad(out, "dgamma = sum(dy * xhat)", gamma);
  print_grad(out, "dbeta = sum(dy)", beta);
  return y;
}

}  // namespace

void add_cnn_examples(ExampleTable& table) {
  table["im2col"] = {im2col_example, "im2col of a 1x1x4x4 image with a 2x2 filter, and its conv"};
  table["max-pool"] = {max_pool_example, "max pooling 2x2: forward, and backward routing"};
  table["batch-norm"] = {batch_norm_example, "batch norm forward and backward on a 3x2 batch"};
}

}  // namespace nabla::cli
