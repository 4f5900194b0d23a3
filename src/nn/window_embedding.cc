// WindowEmbedding: two embedding lookups, their rows joined; backward splits dout.
#include "nabla/nn/window_embedding.h"

#include <cstring>
#include <utility>

namespace nabla {
namespace {

// Row i of `joined` (n rows of a + b values) is a's row i, then b's. to_joined: copies a
// and b into joined (forward); else joined into a and b (backward).
// (joined is only read when !to_joined: the const_cast writes nothing then)
void copy_rows(const Tensor& joined, Tensor& a, Tensor& b, bool to_joined) {
  const std::size_t size = dtype_size(joined.dtype());
  const std::int64_t n = joined.size(0);
  const std::size_t a_bytes = static_cast<std::size_t>(a.size(1)) * size;
  const std::size_t b_bytes = static_cast<std::size_t>(b.size(1)) * size;
  auto* row = static_cast<char*>(const_cast<void*>(joined.raw()));
  auto* pa = static_cast<char*>(a.raw());
  auto* pb = static_cast<char*>(b.raw());
  for (std::int64_t i = 0; i < n; ++i, row += a_bytes + b_bytes, pa += a_bytes, pb += b_bytes) {
    // (a table of width 0, --shape-dim 0, has no storage: nothing to copy)
    if (a_bytes > 0) std::memcpy(to_joined ? row : pa, to_joined ? pa : row, a_bytes);
    if (b_bytes > 0) std::memcpy(to_joined ? row + a_bytes : pb, to_joined ? pb : row + a_bytes, b_bytes);
  }
}

// Columns [begin, begin + k) of ids (N, 2k) into out (N, k).
void take_columns(const Tensor& ids, std::int64_t begin, std::int64_t k, Tensor& out) {
  const std::int64_t n = ids.size(0), cols = ids.size(1);
  out.resize({n, k}, DType::i64);
  const std::int64_t* src = ids.data<std::int64_t>();
  std::int64_t* dst = out.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + i * k, src + i * cols + begin, static_cast<std::size_t>(k) * sizeof(std::int64_t));
  }
}

}  // namespace

WindowEmbedding::WindowEmbedding(Tensor words, Tensor shapes, std::int64_t width,
                                 Tensor affixes)
    : width_(width) {
  if (width < 1) {
    throw ValueError("WindowEmbedding: a window needs 1 or more tokens, got " +
                     std::to_string(width));
  }
  if (words.rank() != 2 || shapes.rank() != 2 || words.dtype() != shapes.dtype()) {
    throw ShapeError("WindowEmbedding: expected two tables (V, d) and (S, s) of one dtype, got " +
                     std::string(dtype_name(words.dtype())) + shape_str(words.shape()) + " and " +
                     dtype_name(shapes.dtype()) + shape_str(shapes.shape()));
  }
  if (affixes.defined() && (affixes.rank() != 2 || affixes.dtype() != words.dtype())) {
    throw ShapeError("WindowEmbedding: expected an affix table (A, a) of the words' dtype " +
                     std::string(dtype_name(words.dtype())) + ", got " +
                     dtype_name(affixes.dtype()) + shape_str(affixes.shape()));
  }
  register_module("words", std::make_unique<Embedding>(std::move(words)));
  register_module("shapes", std::make_unique<Embedding>(std::move(shapes)));
  if (affixes.defined()) {
    register_module("affixes", std::make_unique<Embedding>(std::move(affixes)));
  }
}

Embedding& WindowEmbedding::affixes() { return static_cast<Embedding&>(module_at(2)); }

void WindowEmbedding::set_grad_mode(EmbeddingGrad mode) {
  words().set_grad_mode(mode);
  shapes().set_grad_mode(mode);
  if (has_affixes()) affixes().set_grad_mode(mode);
}

Tensor WindowEmbedding::forward(const Tensor& ids) {
  if (ids.dtype() != DType::i64 || ids.rank() != 2 || ids.size(1) != ids_per_example()) {
    throw ShapeError("WindowEmbedding: ids " + std::string(dtype_name(ids.dtype())) +
                     shape_str(ids.shape()) + ", expected int64 (N, " +
                     std::to_string(ids_per_example()) + "): " + std::to_string(width_) +
                     " word ids, then as many shape ids" +
                     (has_affixes() ? ", prefix ids and suffix ids" : ""));
  }
  take_columns(ids, 0, width_, word_ids_);
  take_columns(ids, width_, width_, shape_ids_);
  Tensor w = words().forward(word_ids_);    // (N, k*d)
  Tensor s = shapes().forward(shape_ids_);  // (N, k*s)
  Tensor out = Tensor::empty({ids.size(0), w.size(1) + s.size(1)}, w.dtype());
  copy_rows(out, w, s, true);
  if (has_affixes()) {
    take_columns(ids, 2 * width_, 2 * width_, affix_ids_);
    Tensor a = affixes().forward(affix_ids_);  // (N, 2k*a)
    Tensor joined = Tensor::empty({ids.size(0), out.size(1) + a.size(1)}, w.dtype());
    copy_rows(joined, out, a, true);
    out = std::move(joined);
  }
  out_shape_ = is_training() ? out.shape() : Shape{};
  return out;
}

Tensor WindowEmbedding::backward(const Tensor& dout) {
  require_forward(!out_shape_.empty(), dout, out_shape_);
  const std::int64_t n = dout.size(0), wd = width_ * words().dim();
  // With affixes, their columns (the last 2k * a) first.
  const Tensor* words_and_shapes = &dout;
  Tensor dws;
  if (has_affixes()) {
    const std::int64_t ad = 2 * width_ * affixes().dim();
    dws = Tensor::empty({n, dout.size(1) - ad}, dout.dtype());
    Tensor da = Tensor::empty({n, ad}, dout.dtype());
    copy_rows(dout, dws, da, false);
    affixes().backward(da);
    words_and_shapes = &dws;
  }
  Tensor dw = Tensor::empty({n, wd}, dout.dtype());
  Tensor ds = Tensor::empty({n, words_and_shapes->size(1) - wd}, dout.dtype());
  copy_rows(*words_and_shapes, dw, ds, false);
  words().backward(dw);
  shapes().backward(ds);
  return Tensor();
}

}  // namespace nabla
