// Window2d: output sizes, checked.
#include "nabla/ops/window2d.h"

#include <string>

#include "nabla/core/tensor.h"

namespace nabla {

namespace {

std::int64_t out_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                      const char* axis, const char* op) {
  if (kernel < 1 || stride < 1 || pad < 0) {
    throw ShapeError(std::string(op) + ": kernel " + std::to_string(kernel) + ", stride " +
                     std::to_string(stride) + ", pad " + std::to_string(pad) +
                     ": kernel and stride must be at least 1, pad at least 0");
  }
  if (in + 2 * pad < kernel) {
    throw ShapeError(std::string(op) + ": a kernel of " + std::to_string(kernel) +
                     " does not fit an input " + axis + " of " + std::to_string(in) +
                     " padded by " + std::to_string(pad));
  }
  return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace

std::int64_t Window2d::out_h(std::int64_t in_h, const char* op) const {
  return out_size(in_h, kernel_h, stride, pad, "height", op);
}
std::int64_t Window2d::out_w(std::int64_t in_w, const char* op) const {
  return out_size(in_w, kernel_w, stride, pad, "width", op);
}

}  // namespace nabla
