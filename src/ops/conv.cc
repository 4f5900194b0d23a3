// Convolution (im2col + matrix product) and pooling: forward and backward.
#include "nabla/conv.h"

#include <limits>
#include <string>
#include <vector>

#include "nabla/ops.h"
#include "ops/kernels.h"

namespace nabla {

namespace {

// (N, C, H, W) or ShapeError.
void check_image(const Tensor& x, const char* op) {
  if (x.rank() != 4) {
    throw ShapeError(std::string(op) + ": expected an input of shape (N, C, H, W), got " +
                     shape_str(x.shape()));
  }
}

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

// The geometry of one im2col: input (N, C, H, W), output (N*OH*OW, C*KH*KW).
struct Fields {
  std::int64_t n, c, h, w, oh, ow, kh, kw, stride, pad;
  Fields(const Shape& x, const Window2d& win, const char* op)
      : n(x[0]),
        c(x[1]),
        h(x[2]),
        w(x[3]),
        oh(win.out_h(x[2], op)),
        ow(win.out_w(x[3], op)),
        kh(win.kernel_h),
        kw(win.kernel_w),
        stride(win.stride),
        pad(win.pad) {}
  std::int64_t rows() const { return n * oh * ow; }
  std::int64_t cols() const { return c * kh * kw; }

  // Calls f(col_index, image_index) for every column of field row (b, i, j) that lands
  // inside the image (padding columns are skipped).
  template <class F>
  void for_each_pixel(std::int64_t b, std::int64_t i, std::int64_t j, F&& f) const {
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t u = 0; u < kh; ++u) {
        const std::int64_t y = i * stride + u - pad;
        if (y < 0 || y >= h) continue;
        for (std::int64_t v = 0; v < kw; ++v) {
          const std::int64_t x = j * stride + v - pad;
          if (x < 0 || x >= w) continue;
          f((ch * kh + u) * kw + v, ((b * c + ch) * h + y) * w + x);
        }
      }
    }
  }
};

// (N*OH*OW, F) rows -> (N, F, OH, OW), and back.
Tensor rows_to_image(const Tensor& rows, std::int64_t n, std::int64_t f, std::int64_t oh,
                     std::int64_t ow) {
  Tensor out = Tensor::empty({n, f, oh, ow}, rows.dtype());
  visit_dtype(rows.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = rows.data<T>();
    T* dst = out.data<T>();
    const std::int64_t plane = oh * ow;
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t p = 0; p < plane; ++p)
        for (std::int64_t k = 0; k < f; ++k)
          dst[(b * f + k) * plane + p] = src[(b * plane + p) * f + k];
  });
  return out;
}

Tensor image_to_rows(const Tensor& image) {
  const std::int64_t n = image.size(0), f = image.size(1), plane = image.size(2) * image.size(3);
  Tensor out = Tensor::empty({n * plane, f}, image.dtype());
  visit_dtype(image.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = image.data<T>();
    T* dst = out.data<T>();
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t k = 0; k < f; ++k)
        for (std::int64_t p = 0; p < plane; ++p)
          dst[(b * plane + p) * f + k] = src[(b * f + k) * plane + p];
  });
  return out;
}

void check_conv(const Tensor& x, const Tensor& w, const Tensor& b, const char* op) {
  check_image(x, op);
  if (w.rank() != 4 || w.size(1) != x.size(1)) {
    throw ShapeError(std::string(op) + ": expected weights (F, " + std::to_string(x.size(1)) +
                     ", KH, KW) for an input " + shape_str(x.shape()) + ", got " +
                     shape_str(w.shape()));
  }
  if (b.shape() != Shape{w.size(0)}) {
    throw ShapeError(std::string(op) + ": expected a bias (" + std::to_string(w.size(0)) +
                     ") for weights " + shape_str(w.shape()) + ", got " + shape_str(b.shape()));
  }
  kernels::check_same_dtype(x, w, op);
  kernels::check_same_dtype(x, b, op);
}

Window2d conv_window(const Tensor& w, std::int64_t stride, std::int64_t pad) {
  return {w.size(2), w.size(3), stride, pad};
}

// What a pooling window covers, for each output element: calls f(out_index, in_begin
// offsets...) through for_each_window.
struct Pool {
  std::int64_t n, c, h, w, oh, ow, k, stride;
  Pool(const Tensor& x, std::int64_t kernel, std::int64_t s, const char* op) {
    check_image(x, op);
    n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), k = kernel, stride = s;
    oh = out_size(h, k, s, 0, "height", op);
    ow = out_size(w, k, s, 0, "width", op);
  }
  // f(out_index, window): window(g) calls g(in_index) for each input of the window.
  template <class F>
  void for_each_window(F&& f) const {
    for (std::int64_t plane = 0; plane < n * c; ++plane)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          const std::int64_t out = (plane * oh + i) * ow + j;
          const std::int64_t origin = (plane * h + i * stride) * w + j * stride;
          f(out, [&](auto&& g) {
            for (std::int64_t u = 0; u < k; ++u)
              for (std::int64_t v = 0; v < k; ++v) g(origin + u * w + v);
          });
        }
  }
};

}  // namespace

std::int64_t Window2d::out_h(std::int64_t in_h, const char* op) const {
  return out_size(in_h, kernel_h, stride, pad, "height", op);
}
std::int64_t Window2d::out_w(std::int64_t in_w, const char* op) const {
  return out_size(in_w, kernel_w, stride, pad, "width", op);
}

Tensor im2col(const Tensor& x, const Window2d& win) {
  check_image(x, "im2col");
  const Fields g(x.shape(), win, "im2col");
  Tensor cols({g.rows(), g.cols()}, x.dtype());  // zeros: the padding
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = x.data<T>();
    T* dst = cols.data<T>();
    for (std::int64_t b = 0; b < g.n; ++b)
      for (std::int64_t i = 0; i < g.oh; ++i)
        for (std::int64_t j = 0; j < g.ow; ++j) {
          T* row = dst + ((b * g.oh + i) * g.ow + j) * g.cols();
          g.for_each_pixel(b, i, j, [&](std::int64_t col, std::int64_t at) { row[col] = src[at]; });
        }
  });
  return cols;
}

Tensor col2im(const Tensor& cols, const Shape& x_shape, const Window2d& win) {
  if (x_shape.size() != 4) {
    throw ShapeError("col2im: expected an image shape (N, C, H, W), got " + shape_str(x_shape));
  }
  const Fields g(x_shape, win, "col2im");
  if (cols.shape() != Shape{g.rows(), g.cols()}) {
    throw ShapeError("col2im: expected columns " + shape_str({g.rows(), g.cols()}) +
                     " for an image " + shape_str(x_shape) + ", got " + shape_str(cols.shape()));
  }
  Tensor x(x_shape, cols.dtype());
  visit_dtype(cols.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = cols.data<T>();
    T* dst = x.data<T>();
    for (std::int64_t b = 0; b < g.n; ++b)
      for (std::int64_t i = 0; i < g.oh; ++i)
        for (std::int64_t j = 0; j < g.ow; ++j) {
          const T* row = src + ((b * g.oh + i) * g.ow + j) * g.cols();
          g.for_each_pixel(b, i, j,
                           [&](std::int64_t col, std::int64_t at) { dst[at] += row[col]; });
        }
  });
  return x;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t stride,
              std::int64_t pad) {
  check_conv(x, w, b, "conv2d");
  const Window2d win = conv_window(w, stride, pad);
  const std::int64_t f = w.size(0), oh = win.out_h(x.size(2), "conv2d"),
                     ow = win.out_w(x.size(3), "conv2d");
  // cols: (N*OH*OW, C*KH*KW), w: (F, C*KH*KW) -> rows (N*OH*OW, F)
  Tensor rows = matmul(im2col(x, win), w.reshape({f, w.numel() / f}), false, true);
  return rows_to_image(add(rows, b), x.size(0), f, oh, ow);
}

Var conv2d(const Var& x, const Var& w, const Var& b, std::int64_t stride, std::int64_t pad) {
  check_conv(x.value(), w.value(), b.value(), "conv2d");
  const Window2d win = conv_window(w.value(), stride, pad);
  const std::int64_t n = x.value().size(0), f = w.value().size(0);
  const std::int64_t oh = win.out_h(x.value().size(2), "conv2d"),
                     ow = win.out_w(x.value().size(3), "conv2d");
  Tensor cols = im2col(x.value(), win);
  const Tensor w2 = w.value().reshape({f, w.value().numel() / f});  // (F, C*KH*KW)
  Tensor out = rows_to_image(add(matmul(cols, w2, false, true), b.value()), n, f, oh, ow);
  return record("conv2d", std::move(out), {x, w, b},
                [x, w, b, cols = std::move(cols), win, f](const Tensor& dout) {
                  const Tensor d = image_to_rows(dout);  // (N*OH*OW, F)
                  if (b.requires_grad()) accumulate_grad(b, sum(d, 0), "conv2d");
                  if (w.requires_grad()) {
                    // (F, N*OH*OW) x (N*OH*OW, C*KH*KW) -> w's shape
                    accumulate_grad(w, matmul(d, cols, true, false).reshape(w.shape()), "conv2d");
                  }
                  if (x.requires_grad()) {
                    // (N*OH*OW, F) x (F, C*KH*KW) -> columns, added back onto the pixels
                    const Tensor w_rows = w.value().reshape({f, w.value().numel() / f});
                    accumulate_grad(x, col2im(matmul(d, w_rows), x.shape(), win), "conv2d");
                  }
                });
}

Var max_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride) {
  const Pool p(x.value(), kernel, stride, "max_pool2d");
  Tensor out = Tensor::empty({p.n, p.c, p.oh, p.ow}, x.dtype());
  std::vector<std::int64_t> argmax(static_cast<std::size_t>(out.numel()));
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = x.value().data<T>();
    T* dst = out.data<T>();
    p.for_each_window([&](std::int64_t o, auto&& window) {
      std::int64_t best = -1;
      window([&](std::int64_t at) {
        if (best < 0 || src[at] > src[best]) best = at;  // the first maximum on ties
      });
      dst[o] = src[best];
      argmax[static_cast<std::size_t>(o)] = best;
    });
  });
  return record("max_pool2d", std::move(out), {x},
                [x, argmax = std::move(argmax)](const Tensor& dout) {
                  // The gradient goes to each window's maximum only.
                  Tensor dx(x.shape(), dout.dtype());
                  visit_dtype(dout.dtype(), [&](auto type) {
                    using T = decltype(type);
                    const T* g = dout.data<T>();
                    T* d = dx.data<T>();
                    for (std::size_t o = 0; o < argmax.size(); ++o) d[argmax[o]] += g[o];
                  });
                  accumulate_grad(x, dx, "max_pool2d");
                });
}

Var avg_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride) {
  const Pool p(x.value(), kernel, stride, "avg_pool2d");
  const double share = 1.0 / static_cast<double>(kernel * kernel);
  Tensor out = Tensor::empty({p.n, p.c, p.oh, p.ow}, x.dtype());
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = x.value().data<T>();
    T* dst = out.data<T>();
    p.for_each_window([&](std::int64_t o, auto&& window) {
      double total = 0;
      window([&](std::int64_t at) { total += static_cast<double>(src[at]); });
      dst[o] = static_cast<T>(total * share);
    });
  });
  return record("avg_pool2d", std::move(out), {x}, [x, p, share](const Tensor& dout) {
    // Each input of a window gets an equal share of its output's gradient.
    Tensor dx(x.shape(), dout.dtype());
    visit_dtype(dout.dtype(), [&](auto type) {
      using T = decltype(type);
      const T* g = dout.data<T>();
      T* d = dx.data<T>();
      p.for_each_window([&](std::int64_t o, auto&& window) {
        window([&](std::int64_t at) { d[at] += static_cast<T>(g[o] * share); });
      });
    });
    accumulate_grad(x, dx, "avg_pool2d");
  });
}

}  // namespace nabla
