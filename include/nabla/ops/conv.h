// nabla/ops/conv.h — convolution on images (N, C, H, W); pooling is pool.h.
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
// For speed the convolution itself works image by image on the transposed layout: image
// n's fields as the columns of a (C*KH*KW, OH*OW) matrix, so that w (F, C*KH*KW) times it
// is that image's output (F, OH*OW), already in (N, F, OH, OW) order, and one image's
// columns stay in cache; a row of ones under them folds the bias into the product.
// im2col and col2im show the textbook's row layout.
// Shape mistakes throw ShapeError naming the op, the expected and the actual shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/window2d.h"

NABLA_API_BEGIN
namespace nabla {

class Workers;

// x (N, C, H, W) -> (N*OH*OW, C*KH*KW); padding reads as zero.
Tensor im2col(const Tensor& x, const Window2d& win);
// The adjoint of im2col: cols (N*OH*OW, C*KH*KW) summed back into an image of x_shape.
Tensor col2im(const Tensor& cols, const Shape& x_shape, const Window2d& win);

// x (N, C, H, W), w (F, C, KH, KW), b (F) -> (N, F, OH, OW).
Var conv2d(const Var& x, const Var& w, const Var& b, std::int64_t stride = 1, std::int64_t pad = 0);
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t stride = 1,
              std::int64_t pad = 0);

// ---- the same ops as forward and backward functions -----------------------------------
// The graph op above and the Conv2D layer (nn/cnn_layers.h) both call these: each derivative is
// written once. A cache is what backward needs from forward; a layer keeps one between
// steps, so that its storage is reused.

// What conv2d's backward needs (the input: each image's columns are built again, image
// by image, so that they stay in cache) and the workspaces of forward and backward.
struct ConvCache {
  Tensor x;        // (N, C, H, W)
  Tensor weights;  // (F, C*KH*KW + 1): w and b side by side
  Tensor cols;     // (parts, C*KH*KW + 1, OH*OW): an image's fields as columns, and a row
                   // of ones, for each part of the batch
  Tensor grads;    // (parts, F, C*KH*KW + 1): dw and db side by side, each part's sum
                   // (the direct kernels': dw (F, C*KH*KW) then db (F))
  Tensor padded;   // (parts, C, H + 2P, W + 2P): an image with its padding, for the direct
                   // kernels
};
// x (N, C, H, W), w (F, C, KH, KW), b (F) -> (N, F, OH, OW); fills `cache` unless null.
// The batch's images go in two fixed parts, on the current workers' threads when there are any
// (the result is the same either way).
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Window2d& win,
                      ConvCache* cache);
// From dout (N, F, OH, OW): adds dL/dw into dw and dL/db into db (each skipped when null)
// and returns dL/dx (N, C, H, W), or an undefined tensor when input_grad is false. Uses
// the cache's workspaces; the same parts as the forward.
Tensor conv2d_backward(const Tensor& dout, const Tensor& w, const Window2d& win, ConvCache& cache,
                       Tensor* dw, Tensor* db, bool input_grad);

}  // namespace nabla
NABLA_API_END
