// Max and average pooling over (N, C, H, W) images: forward and backward, and the graph ops.
#include "nabla/ops/pool.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "nabla/detail/workers.h"
#include "ops/tensor_loops.h"

namespace nabla {

namespace {

// Pooling windows over planes (N*C of them): kernel x kernel, clipped to the image where
// they cover padding.
struct PoolGeometry {
  std::int64_t planes, h, w, oh, ow, k, stride, pad;
  PoolGeometry(const Shape& x, const Window2d& win, const char* op) {
    if (x.size() != 4) {
      throw ShapeError(std::string(op) + ": expected an input of shape (N, C, H, W), got " +
                       shape_str(x));
    }
    if (win.kernel_h != win.kernel_w) {
      throw ShapeError(std::string(op) + ": expected a square window, got " +
                       std::to_string(win.kernel_h) + "x" + std::to_string(win.kernel_w));
    }
    planes = x[0] * x[1], h = x[2], w = x[3];
    k = win.kernel_h, stride = win.stride, pad = win.pad;
    oh = win.out_h(h, op);
    ow = win.out_w(w, op);
    if (pad >= k) {
      throw ShapeError(std::string(op) + ": pad " + std::to_string(pad) +
                       " leaves windows of padding only; it must be below the kernel " +
                       std::to_string(k));
    }
  }
  Shape out_shape(const Shape& x) const { return {x[0], x[1], oh, ow}; }
  // f(out index in the plane, y0, y1, x0, x1): the window's rows [y0, y1) and columns
  // [x0, x1) inside the image (never empty, as pad < kernel).
  template <class F>
  void for_each_window(F&& f) const {
    for (std::int64_t i = 0; i < oh; ++i) {
      const std::int64_t top = i * stride - pad;
      const std::int64_t y0 = std::max<std::int64_t>(top, 0), y1 = std::min(top + k, h);
      for (std::int64_t j = 0; j < ow; ++j) {
        const std::int64_t left = j * stride - pad;
        f(i * ow + j, y0, y1, std::max<std::int64_t>(left, 0), std::min(left + k, w));
      }
    }
  }
};

// 2x2 windows of stride 2 without padding: pooling's common case, which has kernels.
bool is_pairs(const Window2d& win) {
  return win.kernel_h == 2 && win.kernel_w == 2 && win.stride == 2 && win.pad == 0;
}

void check_pool_grad(const Tensor& dout, const Shape& x_shape, std::int64_t outputs,
                     const char* op) {
  if (dout.rank() != 4 || dout.numel() != outputs || dout.size(0) != x_shape[0] ||
      dout.size(1) != x_shape[1]) {
    throw ShapeError(std::string(op) + " backward: dout " + shape_str(dout.shape()) +
                     " does not fit the forward of an input " + shape_str(x_shape));
  }
}

}  // namespace

Tensor max_pool2d_forward(const Tensor& x, const Window2d& win, PoolCache* cache) {
  const PoolGeometry g(x.shape(), win, "max_pool2d");
  Tensor out = Tensor::empty(g.out_shape(x.shape()), x.dtype());
  const std::int64_t out_plane = g.oh * g.ow;
  if (cache != nullptr) {
    cache->argmax.resize(static_cast<std::size_t>(g.planes * out_plane));
    cache->x_shape = x.shape();
    cache->win = win;
  }
  // the common 2x2 windows of stride 2 by a kernel (without a cache: positions of one plane)
  const bool pairs = is_pairs(win);
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    // planes in two halves on the workers' threads for a large input
    run_halves(x.numel(), [&](std::int64_t begin, std::int64_t end) {
      std::vector<std::int32_t> scratch(
          static_cast<std::size_t>(pairs && cache == nullptr ? out_plane : 0));
      const std::int64_t in_plane = std::max<std::int64_t>(g.h * g.w, 1);
      const std::int64_t first = begin / in_plane, last = end / in_plane;
      const kernels::Table& k = kernels::active();
      for (std::int64_t plane = first; plane < last; ++plane) {
        const T* src = x.data<T>() + plane * g.h * g.w;
        T* dst = out.data<T>() + plane * out_plane;
        std::int32_t* arg = cache != nullptr ? cache->argmax.data() + plane * out_plane : nullptr;
        if (pairs) {
          if (arg == nullptr) arg = scratch.data();
          if constexpr (std::is_same_v<T, float>) {
            k.max_pool2x2_f32(src, g.h, g.w, dst, arg);
          } else {
            k.max_pool2x2_f64(src, g.h, g.w, dst, arg);
          }
          continue;
        }
        g.for_each_window([&](std::int64_t o, std::int64_t y0, std::int64_t y1, std::int64_t x0,
                              std::int64_t x1) {
          std::int64_t best = y0 * g.w + x0;
          for (std::int64_t y = y0; y < y1; ++y)
            for (std::int64_t c = x0; c < x1; ++c) {
              if (src[y * g.w + c] > src[best]) best = y * g.w + c;  // the first maximum on ties
            }
          dst[o] = src[best];
          if (arg != nullptr) arg[o] = static_cast<std::int32_t>(best);
        });
      }
    });
  });
  return out;
}

Tensor max_pool2d_backward(const Tensor& dout, const PoolCache& cache) {
  if (cache.x_shape.size() != 4) {
    throw ValueError("max_pool2d: backward needs a forward that kept its cache first");
  }
  check_pool_grad(dout, cache.x_shape, static_cast<std::int64_t>(cache.argmax.size()),
                  "max_pool2d");
  const std::int64_t planes = cache.x_shape[0] * cache.x_shape[1];
  const std::int64_t in_plane = cache.x_shape[2] * cache.x_shape[3];
  const std::int64_t out_plane = dout.numel() / std::max<std::int64_t>(planes, 1);
  // The gradient goes to each window's maximum only (overlapping windows add up): zeros
  // and a scatter, or for 2x2 windows of stride 2 (which do not overlap) by a kernel that
  // writes each element once. Planes in two halves on the workers' threads for a large
  // input.
  const bool pairs = is_pairs(cache.win);
  Tensor dx = Tensor::empty(cache.x_shape, dout.dtype());
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    run_halves(dx.numel(), [&](std::int64_t begin, std::int64_t end) {
      const std::int64_t first = begin / std::max<std::int64_t>(in_plane, 1);
      const std::int64_t last = end / std::max<std::int64_t>(in_plane, 1);
      if (!pairs) std::fill(dx.data<T>() + first * in_plane, dx.data<T>() + last * in_plane, T(0));
      const kernels::Table& k = kernels::active();
      for (std::int64_t plane = first; plane < last; ++plane) {
        const T* g = dout.data<T>() + plane * out_plane;
        const std::int32_t* arg = cache.argmax.data() + plane * out_plane;
        T* d = dx.data<T>() + plane * in_plane;
        if (pairs) {
          if constexpr (std::is_same_v<T, float>) {
            k.max_pool2x2_backward_f32(g, arg, cache.x_shape[2], cache.x_shape[3], d);
          } else {
            k.max_pool2x2_backward_f64(g, arg, cache.x_shape[2], cache.x_shape[3], d);
          }
          continue;
        }
        for (std::int64_t o = 0; o < out_plane; ++o) d[arg[o]] += g[o];
      }
    });
  });
  return dx;
}

Tensor avg_pool2d_forward(const Tensor& x, const Window2d& win) {
  const PoolGeometry g(x.shape(), win, "avg_pool2d");
  const double share = 1.0 / static_cast<double>(g.k * g.k);  // padding counts as zeros
  Tensor out = Tensor::empty(g.out_shape(x.shape()), x.dtype());
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    for (std::int64_t plane = 0; plane < g.planes; ++plane) {
      const T* src = x.data<T>() + plane * g.h * g.w;
      T* dst = out.data<T>() + plane * g.oh * g.ow;
      g.for_each_window(
          [&](std::int64_t o, std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
            double total = 0;
            for (std::int64_t y = y0; y < y1; ++y)
              for (std::int64_t c = x0; c < x1; ++c) total += static_cast<double>(src[y * g.w + c]);
            dst[o] = static_cast<T>(total * share);
          });
    }
  });
  return out;
}

Tensor avg_pool2d_backward(const Tensor& dout, const Shape& x_shape, const Window2d& win) {
  if (x_shape.size() != 4) {
    throw ValueError("avg_pool2d: backward needs a forward in training mode first");
  }
  const PoolGeometry g(x_shape, win, "avg_pool2d");
  check_pool_grad(dout, x_shape, g.planes * g.oh * g.ow, "avg_pool2d");
  const double share = 1.0 / static_cast<double>(g.k * g.k);
  // Each input of a window gets an equal share of its output's gradient.
  Tensor dx(x_shape, dout.dtype());
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    for (std::int64_t plane = 0; plane < g.planes; ++plane) {
      const T* grad = dout.data<T>() + plane * g.oh * g.ow;
      T* d = dx.data<T>() + plane * g.h * g.w;
      g.for_each_window(
          [&](std::int64_t o, std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
            const T part = static_cast<T>(static_cast<double>(grad[o]) * share);
            for (std::int64_t y = y0; y < y1; ++y)
              for (std::int64_t c = x0; c < x1; ++c) d[y * g.w + c] += part;
          });
    }
  });
  return dx;
}

Var max_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
  const Window2d win{kernel, kernel, stride, pad};
  PoolCache cache;
  Tensor out = max_pool2d_forward(x.value(), win, &cache);
  return record("max_pool2d", std::move(out), {x},
                [x, cache = std::move(cache)](const Tensor& dout) {
                  accumulate_grad(x, max_pool2d_backward(dout, cache), "max_pool2d");
                });
}

Var avg_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
  const Window2d win{kernel, kernel, stride, pad};
  Tensor out = avg_pool2d_forward(x.value(), win);
  return record("avg_pool2d", std::move(out), {x}, [x, win](const Tensor& dout) {
    accumulate_grad(x, avg_pool2d_backward(dout, x.shape(), win), "avg_pool2d");
  });
}

}  // namespace nabla
