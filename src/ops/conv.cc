// Convolution (im2col + matrix product): forward and backward, and the graph op.
#include "nabla/ops/conv.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kernels.h"
#include "nabla/detail/workers.h"
#include "nabla/ops/ops.h"
#include "ops/tensor_loops.h"

namespace nabla {

namespace {

// (N, C, H, W) or ShapeError.
void check_image(const Tensor& x, const char* op) {
  if (x.rank() != 4) {
    throw ShapeError(std::string(op) + ": expected an input of shape (N, C, H, W), got " +
                     shape_str(x.shape()));
  }
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

}  // namespace

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

// ---- convolution ------------------------------------------------------------------------

namespace {

// The outputs [first, last) of [0, count) whose input i * stride + offset lies in [0, size).
std::pair<std::int64_t, std::int64_t> inside(std::int64_t offset, std::int64_t stride,
                                             std::int64_t size, std::int64_t count) {
  std::int64_t first = 0;
  while (first < count && first * stride + offset < 0) ++first;
  std::int64_t last = first;
  while (last < count && last * stride + offset < size) ++last;
  return {first, last};
}

// The columns of `kernel_cols` row (c, u, v) of one image: out[i*OW + j] = img[c, i S + u - P,
// j S + v - P], 0 in the padding. f(dst, src) is called on each in-image run of a row
// (count elements, strided by S in the source); zero(dst, count) on each padding run.
template <class F, class Z>
void for_each_column_run(const Fields& g, std::int64_t ch, std::int64_t u, std::int64_t v, F&& f,
                         Z&& zero) {
  const auto [j0, j1] = inside(v - g.pad, g.stride, g.w, g.ow);
  for (std::int64_t i = 0; i < g.oh; ++i) {
    const std::int64_t y = i * g.stride + u - g.pad;
    const std::int64_t out = i * g.ow;
    if (y < 0 || y >= g.h) {
      zero(out, g.ow);
      continue;
    }
    zero(out, j0);
    f(out + j0, (ch * g.h + y) * g.w + j0 * g.stride + v - g.pad, j1 - j0);
    zero(out + j1, g.ow - j1);
  }
}

void copy_rows(const kernels::Table& k, const float* src, std::int64_t src_stride,
               std::int64_t rows, std::int64_t cols, float* dst, std::int64_t dst_stride) {
  k.copy_rows_f32(src, src_stride, rows, cols, dst, dst_stride);
}
void copy_rows(const kernels::Table& k, const double* src, std::int64_t src_stride,
               std::int64_t rows, std::int64_t cols, double* dst, std::int64_t dst_stride) {
  k.copy_rows_f64(src, src_stride, rows, cols, dst, dst_stride);
}

// One image (C, H, W) -> its fields as columns (C*KH*KW, OH*OW).
template <class T>
void image_to_columns(const Fields& g, const T* img, T* cols) {
  const std::int64_t plane = g.oh * g.ow;
  const kernels::Table& k = kernels::active();
  for (std::int64_t ch = 0; ch < g.c; ++ch)
    for (std::int64_t u = 0; u < g.kh; ++u)
      for (std::int64_t v = 0; v < g.kw; ++v) {
        T* row = cols + ((ch * g.kh + u) * g.kw + v) * plane;
        if (g.stride == 1) {
          // the fields inside the image are one block of the output grid, rows [i0, i1)
          // and columns [j0, j1), each row a run of the image's row: copied by the kernel
          const auto [i0, i1] = inside(u - g.pad, 1, g.h, g.oh);
          const auto [j0, j1] = inside(v - g.pad, 1, g.w, g.ow);
          std::fill(row, row + i0 * g.ow, T(0));
          std::fill(row + i1 * g.ow, row + plane, T(0));
          if (j0 > 0 || j1 < g.ow) {
            for (std::int64_t i = i0; i < i1; ++i) {
              std::fill(row + i * g.ow, row + i * g.ow + j0, T(0));
              std::fill(row + i * g.ow + j1, row + (i + 1) * g.ow, T(0));
            }
          }
          if (i1 > i0 && j1 > j0) {
            copy_rows(k, img + (ch * g.h + i0 + u - g.pad) * g.w + j0 + v - g.pad, g.w, i1 - i0,
                      j1 - j0, row + i0 * g.ow + j0, g.ow);
          }
          continue;
        }
        for_each_column_run(
            g, ch, u, v,
            [&](std::int64_t out, std::int64_t at, std::int64_t count) {
              for (std::int64_t t = 0; t < count; ++t) row[out + t] = img[at + t * g.stride];
            },
            [&](std::int64_t out, std::int64_t count) {
              std::fill(row + out, row + out + count, T(0));
            });
      }
}

// The adjoint: adds each column back onto the pixel it came from.
template <class T>
void columns_to_image(const Fields& g, const T* cols, T* img) {
  const std::int64_t plane = g.oh * g.ow;
  for (std::int64_t ch = 0; ch < g.c; ++ch)
    for (std::int64_t u = 0; u < g.kh; ++u)
      for (std::int64_t v = 0; v < g.kw; ++v) {
        const T* row = cols + ((ch * g.kh + u) * g.kw + v) * plane;
        for_each_column_run(
            g, ch, u, v,
            [&](std::int64_t out, std::int64_t at, std::int64_t count) {
              for (std::int64_t t = 0; t < count; ++t) img[at + t * g.stride] += row[out + t];
            },
            [](std::int64_t, std::int64_t) {});
      }
}

}  // namespace

namespace {

// w (F, C, KH, KW) and b (F) side by side as one (F, C*KH*KW + 1) matrix, so that with a
// row of ones under an image's columns the bias is part of the product.
void join_weights(const Tensor& w, const Tensor& b, Tensor& joined) {
  const std::int64_t f = w.size(0), depth = w.numel() / f;
  joined.resize({f, depth + 1}, w.dtype());
  visit_dtype(w.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pw = w.data<T>();
    T* pj = joined.data<T>();
    for (std::int64_t k = 0; k < f; ++k) {
      std::copy(pw + k * depth, pw + (k + 1) * depth, pj + k * (depth + 1));
      pj[k * (depth + 1) + depth] = b.data<T>()[k];
    }
  });
}

// The workspace of one image: its columns (C*KH*KW, OH*OW) and a last row of ones.
// The images of a batch go in kConvParts fixed parts (the threads take parts, so that
// results do not depend on how many there are); each part has its own workspaces.
constexpr int kConvParts = 2;

// A workspace of kConvParts matrices (C*KH*KW + 1, OH*OW) for an image's columns each, the
// last row of each ones.
void prepare_columns(const Fields& g, DType dtype, Tensor& cols) {
  const std::int64_t plane = g.oh * g.ow;
  cols.resize({kConvParts, g.cols() + 1, plane}, dtype);
  visit_dtype(dtype, [&](auto type) {
    using T = decltype(type);
    for (int p = 0; p < kConvParts; ++p) {
      T* ones = cols.data<T>() + (p * (g.cols() + 1) + g.cols()) * plane;
      std::fill(ones, ones + plane, T(1));
    }
  });
}

// The direct kernels (kernels::Table::conv_valid_*) do float32 convolutions of stride 1:
// without the columns' copy of each image and with the products in registers. Padding
// comes from a copy of the image with its border of zeros.
bool direct(const Fields& g, DType dtype) { return dtype == DType::f32 && g.stride == 1; }

kernels::ConvShape direct_shape(const Fields& g, std::int64_t f) {
  return {g.c, g.h + 2 * g.pad, g.w + 2 * g.pad, f, g.kh, g.kw, g.oh, g.ow};
}

// With padding, a workspace of kConvParts padded images, their borders zero.
void prepare_padded(const Fields& g, Tensor& padded) {
  if (g.pad == 0) return;
  padded.resize({kConvParts, g.c, g.h + 2 * g.pad, g.w + 2 * g.pad}, DType::f32);
  padded.fill(0.0);
}

// Image n of x as the direct kernels read it: itself, or copied into the part's padded
// image.
const float* direct_image(const Fields& g, const Tensor& x, std::int64_t n, Tensor& padded,
                          int part) {
  const float* img = x.data<float>() + n * g.c * g.h * g.w;
  if (g.pad == 0) return img;
  const std::int64_t ph = g.h + 2 * g.pad, pw = g.w + 2 * g.pad;
  float* dst = padded.data<float>() + part * g.c * ph * pw;
  for (std::int64_t ch = 0; ch < g.c; ++ch) {
    kernels::active().copy_rows_f32(img + ch * g.h * g.w, g.w, g.h, g.w,
                                    dst + (ch * ph + g.pad) * pw + g.pad, pw);
  }
  return dst;
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Window2d& win,
                      ConvCache* cache) {
  check_conv(x, w, b, "conv2d");
  if (win.kernel_h != w.size(2) || win.kernel_w != w.size(3)) {
    throw ShapeError("conv2d: a window of " + std::to_string(win.kernel_h) + "x" +
                     std::to_string(win.kernel_w) + " for weights " + shape_str(w.shape()));
  }
  const Fields g(x.shape(), win, "conv2d");
  const std::int64_t f = w.size(0), depth = g.cols() + 1, plane = g.oh * g.ow;
  Tensor out = Tensor::empty({g.n, f, g.oh, g.ow}, x.dtype());
  ConvCache local;
  ConvCache& work = cache != nullptr ? *cache : local;
  if (cache != nullptr) cache->x = x;  // reuses the storage of the last step's input
  if (direct(g, x.dtype())) {
    const kernels::ConvShape shape = direct_shape(g, f);
    prepare_padded(g, work.padded);
    run_parts(kConvParts, [&](int part) {
      const auto [first, last] = part_range(g.n, part, kConvParts);
      for (std::int64_t n = first; n < last; ++n) {
        kernels::active().conv_valid_f32(shape, direct_image(g, x, n, work.padded, part),
                                         w.data<float>(), b.data<float>(),
                                         out.data<float>() + n * f * plane);
      }
    });
    return out;
  }
  join_weights(w, b, work.weights);
  prepare_columns(g, x.dtype(), work.cols);
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    run_parts(kConvParts, [&](int part) {
      T* col = work.cols.data<T>() + part * depth * plane;
      const auto [first, last] = part_range(g.n, part, kConvParts);
      for (std::int64_t n = first; n < last; ++n) {
        image_to_columns(g, x.data<T>() + n * g.c * g.h * g.w, col);
        // out_n (F, OH*OW) = [w b] (F, C*KH*KW + 1) . [cols_n; 1] (C*KH*KW + 1, OH*OW)
        kernels::gemm_raw(false, false, f, plane, depth, 1.0, work.weights.data<T>(), depth, col,
                          plane, 0.0, out.data<T>() + n * f * plane, plane);
      }
    });
  });
  return out;
}

Tensor conv2d_backward(const Tensor& dout, const Tensor& w, const Window2d& win, ConvCache& cache,
                       Tensor* dw, Tensor* db, bool input_grad) {
  if (!cache.x.defined()) {
    throw ValueError("conv2d: backward needs a forward that kept its cache first");
  }
  const Fields g(cache.x.shape(), win, "conv2d");
  const std::int64_t f = w.size(0), depth = g.cols(), plane = g.oh * g.ow;
  const Shape expected{g.n, f, g.oh, g.ow};
  if (dout.shape() != expected) {
    throw ShapeError("conv2d backward: dout " + shape_str(dout.shape()) + ", expected " +
                     shape_str(expected));
  }
  kernels::check_same_dtype(dout, w, "conv2d backward");
  Tensor dx;
  if (input_grad) dx = Tensor(cache.x.shape(), dout.dtype());  // zeros: fields add up
  const bool weight_grad = dw != nullptr || db != nullptr;
  if (weight_grad) cache.grads.resize({kConvParts, f, depth + 1}, dout.dtype());
  const bool direct_grad = weight_grad && direct(g, dout.dtype());
  if (direct_grad) {
    // each part's [dw (F, C*KH*KW), db (F)] by the direct kernel, then added in order
    const kernels::ConvShape shape = direct_shape(g, f);
    prepare_padded(g, cache.padded);
    run_parts(kConvParts, [&](int part) {
      float* grads = cache.grads.data<float>() + part * f * (depth + 1);
      std::fill(grads, grads + f * (depth + 1), 0.0f);
      const auto [first, last] = part_range(g.n, part, kConvParts);
      for (std::int64_t n = first; n < last; ++n) {
        kernels::active().conv_valid_weight_grad_f32(
            shape, direct_image(g, cache.x, n, cache.padded, part),
            dout.data<float>() + n * f * plane, grads, grads + f * depth);
      }
    });
    for (int part = 0; part < kConvParts; ++part) {
      const float* grads = cache.grads.data<float>() + part * f * (depth + 1);
      if (dw != nullptr) {
        float* pdw = dw->data<float>();
        for (std::int64_t i = 0; i < f * depth; ++i) pdw[i] += grads[i];
      }
      if (db != nullptr) {
        float* pdb = db->data<float>();
        for (std::int64_t k = 0; k < f; ++k) pdb[k] += grads[f * depth + k];
      }
    }
    if (!input_grad) return dx;
  }
  prepare_columns(g, dout.dtype(), cache.cols);
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pd = dout.data<T>();
    run_parts(kConvParts, [&](int part) {
      T* col = cache.cols.data<T>() + part * (depth + 1) * plane;
      const auto [first, last] = part_range(g.n, part, kConvParts);
      if (weight_grad && !direct_grad) {
        // [dw db] of the part (F, C*KH*KW + 1) = sum over its images of dout_n (F, OH*OW) .
        // [cols_n; 1]^T, each image's columns built again from the cached input (they
        // stay in cache)
        T* grads = cache.grads.data<T>() + part * f * (depth + 1);
        std::fill(grads, grads + f * (depth + 1), T(0));
        for (std::int64_t n = first; n < last; ++n) {
          image_to_columns(g, cache.x.data<T>() + n * g.c * g.h * g.w, col);
          kernels::gemm_raw(false, true, f, depth + 1, plane, 1.0, pd + n * f * plane, plane, col,
                            plane, 1.0, grads, depth + 1);
        }
      }
      if (input_grad) {
        // dcols_n (C*KH*KW, OH*OW) = w^T (C*KH*KW, F) . dout_n (F, OH*OW), added onto the
        // pixels of image n
        for (std::int64_t n = first; n < last; ++n) {
          kernels::gemm_raw(true, false, depth, plane, f, 1.0, w.data<T>(), depth,
                            pd + n * f * plane, plane, 0.0, col, plane);
          columns_to_image(g, col, dx.data<T>() + n * g.c * g.h * g.w);
        }
      }
    });
    if (weight_grad && !direct_grad) {
      // the parts' sums, in order
      for (int part = 0; part < kConvParts; ++part) {
        const T* grads = cache.grads.data<T>() + part * f * (depth + 1);
        for (std::int64_t k = 0; k < f; ++k) {
          const T* row = grads + k * (depth + 1);
          if (dw != nullptr) {
            T* pdw = dw->data<T>() + k * depth;
            for (std::int64_t i = 0; i < depth; ++i) pdw[i] += row[i];
          }
          if (db != nullptr) db->data<T>()[k] += row[depth];
        }
      }
    }
  });
  return dx;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t stride,
              std::int64_t pad) {
  check_conv(x, w, b, "conv2d");
  return conv2d_forward(x, w, b, conv_window(w, stride, pad), nullptr);
}

Var conv2d(const Var& x, const Var& w, const Var& b, std::int64_t stride, std::int64_t pad) {
  check_conv(x.value(), w.value(), b.value(), "conv2d");
  const Window2d win = conv_window(w.value(), stride, pad);
  auto cache = std::make_shared<ConvCache>();
  Tensor out = conv2d_forward(x.value(), w.value(), b.value(), win, cache.get());
  return record("conv2d", std::move(out), {x, w, b}, [x, w, b, win, cache](const Tensor& dout) {
    Tensor dw, db;
    if (w.requires_grad()) dw = Tensor(w.shape(), w.dtype());
    if (b.requires_grad()) db = Tensor(b.shape(), b.dtype());
    Tensor dx = conv2d_backward(dout, w.value(), win, *cache, dw.defined() ? &dw : nullptr,
                                db.defined() ? &db : nullptr, x.requires_grad());
    if (dw.defined()) accumulate_grad(w, dw, "conv2d");
    if (db.defined()) accumulate_grad(b, db, "conv2d");
    if (dx.defined()) accumulate_grad(x, dx, "conv2d");
  });
}

}  // namespace nabla
