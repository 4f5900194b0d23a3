// nabla/ops/window2d.h — how a window slides over an image (N, C, H, W): the geometry
// that convolution (conv.h) and pooling (pool.h) share.
#pragma once

#include <cstdint>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

// How a window slides over an image: kernel size, stride and zero padding.
struct Window2d {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride = 1, pad = 0;
  // Output size along an input axis of size `in` (ShapeError if the window does not fit).
  std::int64_t out_h(std::int64_t in_h, const char* op) const;
  std::int64_t out_w(std::int64_t in_w, const char* op) const;
};

}  // namespace nabla
NABLA_API_END
