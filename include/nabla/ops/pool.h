// nabla/ops/pool.h — max and average pooling on images (N, C, H, W).
//
// Pooling takes the max (or the mean) of each KxK window; the max routes the gradient to
// the window's largest element (the first one on ties), the mean spreads it evenly.
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

// x (N, C, H, W) -> (N, C, OH, OW), windows of kernel x kernel (stride and zero padding as
// given). Max-pooling never picks a padding element; average pooling counts padding as 0.
Var max_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride, std::int64_t pad = 0);
Var avg_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride, std::int64_t pad = 0);

// ---- the same ops as forward and backward functions -----------------------------------
// The graph ops above and the layers MaxPool2D and AvgPool2D (nn/cnn_layers.h) call these.

struct PoolCache {
  std::vector<std::int32_t> argmax;  // per output: the position of its maximum in its plane
  Shape x_shape;
  Window2d win;
};
// Planes in two halves on the current workers' threads (when any and the input is large).
Tensor max_pool2d_forward(const Tensor& x, const Window2d& win, PoolCache* cache);
Tensor max_pool2d_backward(const Tensor& dout, const PoolCache& cache);
Tensor avg_pool2d_forward(const Tensor& x, const Window2d& win);
Tensor avg_pool2d_backward(const Tensor& dout, const Shape& x_shape, const Window2d& win);

}  // namespace nabla
NABLA_API_END
