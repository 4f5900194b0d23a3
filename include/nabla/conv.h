// nabla/conv.h — the ops of convolutional networks on images (N, C, H, W).
//
// Convolution is a matrix product after im2col: every receptive field of the input
// (C x KH x KW values) becomes one row of a matrix, so that
//
//   out[n, f, i, j] = sum_{c, u, v} x[n, c, i*S + u - P, j*S + v - P] * w[f, c, u, v] + b[f]
//
// is cols (N*OH*OW, C*KH*KW) times w reshaped to (F, C*KH*KW)^T. Backward runs the same
// products the other way, and col2im adds each row's gradient back onto the pixels it
// came from (overlapping fields add up). Sizes: OH = (H + 2P - KH) / S + 1, likewise OW.
//
//   x: (1, 1, 4, 4), 2x2 filter, stride 1, pad 0 -> cols (9, 4): row 0 is x's top-left 2x2
//
// Pooling takes the max (or the mean) of each KxK window; the max routes the gradient to
// the window's largest element (the first one on ties), the mean spreads it evenly.
// Shape mistakes throw ShapeError naming the op, the expected and the actual shapes.
#pragma once

#include <cstdint>

#include "nabla/graph.h"
#include "nabla/tensor.h"

namespace nabla {

// How a window slides over an image: kernel size, stride and zero padding.
struct Window2d {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride = 1, pad = 0;
  // Output size along an input axis of size `in` (ShapeError if the window does not fit).
  std::int64_t out_h(std::int64_t in_h, const char* op) const;
  std::int64_t out_w(std::int64_t in_w, const char* op) const;
};

// x (N, C, H, W) -> (N*OH*OW, C*KH*KW); padding reads as zero.
Tensor im2col(const Tensor& x, const Window2d& win);
// The adjoint of im2col: cols (N*OH*OW, C*KH*KW) summed back into an image of x_shape.
Tensor col2im(const Tensor& cols, const Shape& x_shape, const Window2d& win);

// x (N, C, H, W), w (F, C, KH, KW), b (F) -> (N, F, OH, OW).
Var conv2d(const Var& x, const Var& w, const Var& b, std::int64_t stride = 1, std::int64_t pad = 0);
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t stride = 1,
              std::int64_t pad = 0);

// x (N, C, H, W) -> (N, C, OH, OW), windows of kernel x kernel, no padding.
Var max_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride);
Var avg_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride);

}  // namespace nabla
