// CharConvolution: character vectors, a convolution over the word, each filter's maximum.
#include "nabla/nn/char_convolution.h"

#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "nabla/ops/ops.h"  // gemm

namespace nabla {

CharConvolution::CharConvolution(Tensor chars, Tensor W, Tensor b) {
  const bool fits = chars.rank() == 2 && W.rank() == 2 && b.rank() == 1 && chars.size(1) > 0 &&
                    W.size(0) > 0 && W.size(0) % chars.size(1) == 0 && b.size(0) == W.size(1) &&
                    chars.dtype() == W.dtype() && W.dtype() == b.dtype();
  if (!fits) {
    throw ShapeError(
        "CharConvolution: expected chars (C, e), W (width * e, F) and b (F) of one "
        "dtype, got " +
        std::string(dtype_name(chars.dtype())) + shape_str(chars.shape()) + ", " +
        dtype_name(W.dtype()) + shape_str(W.shape()) + " and " + dtype_name(b.dtype()) +
        shape_str(b.shape()));
  }
  register_parameter("W", std::move(W));
  register_parameter("b", std::move(b));
  register_module("chars", std::make_unique<Embedding>(std::move(chars)));
}

Tensor CharConvolution::forward(const Tensor& ids) {
  const std::int64_t w = width();
  if (ids.dtype() != DType::i64 || ids.rank() != 2 || ids.size(1) < w) {
    throw ShapeError("CharConvolution: ids " + std::string(dtype_name(ids.dtype())) +
                     shape_str(ids.shape()) + ", expected int64 (M, L) with L >= the width " +
                     std::to_string(w));
  }
  const std::int64_t m = ids.size(0), len = ids.size(1), e = chars().dim(), f = filters();
  const std::int64_t p = len - w + 1;  // positions of the window in a word

  // The distinct words: word_of[i] is example i's index among them.
  std::vector<std::int64_t> word_of(static_cast<std::size_t>(m));
  std::unordered_map<std::string_view, std::int64_t> seen;
  std::vector<std::int64_t> firsts;  // the first example of each distinct word
  const auto* bytes = static_cast<const char*>(ids.raw());
  const std::size_t row_bytes = static_cast<std::size_t>(len) * sizeof(std::int64_t);
  for (std::int64_t i = 0; i < m; ++i) {
    const std::string_view row(bytes + static_cast<std::size_t>(i) * row_bytes, row_bytes);
    auto [it, added] = seen.emplace(row, static_cast<std::int64_t>(firsts.size()));
    if (added) firsts.push_back(i);
    word_of[static_cast<std::size_t>(i)] = it->second;
  }
  const auto u = static_cast<std::int64_t>(firsts.size());
  Tensor words({u, len}, DType::i64);
  for (std::int64_t k = 0; k < u; ++k) {
    std::memcpy(static_cast<char*>(words.raw()) + static_cast<std::size_t>(k) * row_bytes,
                bytes + static_cast<std::size_t>(firsts[static_cast<std::size_t>(k)]) * row_bytes,
                row_bytes);
  }
  const Tensor vectors = chars().forward(words);  // (U, L * e)

  // windows (U * P, width * e): row k * P + q is word k's characters q .. q + width - 1.
  Tensor windows = Tensor::empty({u * p, w * e}, vectors.dtype());
  const std::size_t size = dtype_size(vectors.dtype());
  for (std::int64_t k = 0; k < u; ++k) {
    for (std::int64_t q = 0; q < p; ++q) {
      std::memcpy(
          static_cast<char*>(windows.raw()) + static_cast<std::size_t>((k * p + q) * w * e) * size,
          static_cast<const char*>(vectors.raw()) +
              static_cast<std::size_t>(k * len * e + q * e) * size,
          static_cast<std::size_t>(w * e) * size);
    }
  }
  // scores (U * P, F) = b in every row + windows . W
  Tensor scores = Tensor::empty({u * p, f}, vectors.dtype());
  Tensor out = Tensor::empty({m, f}, vectors.dtype());
  std::vector<std::int64_t> best(static_cast<std::size_t>(u * f));
  visit_dtype(scores.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* pb = b().value().data<T>();
    T* s = scores.data<T>();
    for (std::int64_t r = 0; r < u * p; ++r)
      std::memcpy(s + r * f, pb, static_cast<std::size_t>(f) * sizeof(T));
  });
  gemm(windows, false, W().value(), false, 1.0, 1.0, scores);
  visit_dtype(scores.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* s = scores.data<T>();
    std::vector<T> pooled(static_cast<std::size_t>(u * f));
    for (std::int64_t k = 0; k < u; ++k) {
      for (std::int64_t j = 0; j < f; ++j) {
        std::int64_t at = 0;
        for (std::int64_t q = 1; q < p; ++q) {
          if (s[(k * p + q) * f + j] > s[(k * p + at) * f + j]) at = q;
        }
        best[static_cast<std::size_t>(k * f + j)] = at;
        pooled[static_cast<std::size_t>(k * f + j)] = s[(k * p + at) * f + j];
      }
    }
    T* y = out.data<T>();
    for (std::int64_t i = 0; i < m; ++i) {
      std::memcpy(y + i * f, pooled.data() + word_of[static_cast<std::size_t>(i)] * f,
                  static_cast<std::size_t>(f) * sizeof(T));
    }
  });
  if (is_training()) {
    word_of_ = std::move(word_of);
    windows_ = std::move(windows);
    best_ = std::move(best);
    positions_ = p;
    length_ = len;
    out_shape_ = out.shape();
  } else {
    windows_ = Tensor();
    out_shape_.clear();
  }
  return out;
}

Tensor CharConvolution::backward(const Tensor& dout) {
  require_forward(!out_shape_.empty(), dout, out_shape_);
  const std::int64_t m = dout.size(0), f = filters(), w = width(), e = chars().dim();
  const std::int64_t u = windows_.size(0) / positions_, we = w * e;
  // dvectors (U, L * e): the characters' vectors of each distinct word
  Tensor dvectors({u, length_ * e}, dout.dtype());
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    // dpooled (U, F): the examples' dout summed per distinct word
    std::vector<T> dpooled(static_cast<std::size_t>(u * f), T(0));
    const T* g = dout.data<T>();
    for (std::int64_t i = 0; i < m; ++i) {
      T* to = dpooled.data() + word_of_[static_cast<std::size_t>(i)] * f;
      for (std::int64_t j = 0; j < f; ++j) to[j] += g[i * f + j];
    }
    // Only the best position of each (word, filter) has a gradient: with its window x and
    // score s = b[f] + x . W[:, f], ds = dpooled; dW[:, f] += x ds, db[f] += ds, and
    // dx += W[:, f] ds, which lands on the word's characters from that position on.
    const T* x = windows_.data<T>();
    const T* wv = W().value().data<T>();
    T* dw = W().grad().data<T>();
    T* db = b().grad().data<T>();
    T* dv = dvectors.data<T>();
    for (std::int64_t k = 0; k < u; ++k) {
      for (std::int64_t j = 0; j < f; ++j) {
        const T ds = dpooled[static_cast<std::size_t>(k * f + j)];
        const std::int64_t q = best_[static_cast<std::size_t>(k * f + j)];
        const T* window = x + (k * positions_ + q) * we;
        T* dwindow = dv + k * length_ * e + q * e;
        for (std::int64_t r = 0; r < we; ++r) {
          dw[r * f + j] += window[r] * ds;
          dwindow[r] += wv[r * f + j] * ds;
        }
        db[j] += ds;
      }
    }
  });
  chars().backward(dvectors);
  return Tensor();
}

}  // namespace nabla
