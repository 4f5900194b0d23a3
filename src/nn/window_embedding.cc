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
    affixes_at_ = register_module("affixes", std::make_unique<Embedding>(std::move(affixes)));
  }
}

WindowEmbedding::WindowEmbedding(Tensor words, Tensor shapes, std::int64_t width, Tensor affixes,
                                 std::unique_ptr<CharConvolution> characters,
                                 std::int64_t word_length)
    : WindowEmbedding(std::move(words), std::move(shapes), width, std::move(affixes)) {
  if (characters == nullptr || word_length < characters->width() ||
      characters->W().dtype() != this->words().W().dtype()) {
    throw ShapeError("WindowEmbedding: expected a character convolution of the words' dtype " +
                     std::string(dtype_name(this->words().W().dtype())) +
                     " whose width fits words of " + std::to_string(word_length) + " characters");
  }
  word_length_ = word_length;
  characters_at_ = register_module("characters", std::move(characters));
}

Embedding& WindowEmbedding::affixes() { return static_cast<Embedding&>(module_at(affixes_at_)); }

CharConvolution& WindowEmbedding::characters() {
  return static_cast<CharConvolution&>(module_at(characters_at_));
}

void WindowEmbedding::set_grad_mode(EmbeddingGrad mode) {
  words().set_grad_mode(mode);
  shapes().set_grad_mode(mode);
  if (has_affixes()) affixes().set_grad_mode(mode);
  if (has_characters()) characters().chars().set_grad_mode(mode);
}

Tensor WindowEmbedding::forward(const Tensor& ids) {
  if (ids.dtype() != DType::i64 || ids.rank() != 2 || ids.size(1) != ids_per_example()) {
    throw ShapeError("WindowEmbedding: ids " + std::string(dtype_name(ids.dtype())) +
                     shape_str(ids.shape()) + ", expected int64 (N, " +
                     std::to_string(ids_per_example()) + "): " + std::to_string(width_) +
                     " word ids, then as many shape ids" +
                     (has_affixes() ? ", prefix ids and suffix ids" : "") +
                     (has_characters() ? ", then " + std::to_string(word_length_) +
                                             " character ids per token"
                                       : ""));
  }
  const std::int64_t n = ids.size(0);
  take_columns(ids, 0, width_, word_ids_);
  take_columns(ids, width_, width_, shape_ids_);
  Tensor w = words().forward(word_ids_);    // (N, k*d)
  Tensor s = shapes().forward(shape_ids_);  // (N, k*s)
  Tensor out = Tensor::empty({n, w.size(1) + s.size(1)}, w.dtype());
  copy_rows(out, w, s, true);
  // out, then `more` in each row
  auto append = [&](Tensor& more) {
    Tensor joined = Tensor::empty({n, out.size(1) + more.size(1)}, out.dtype());
    copy_rows(joined, out, more, true);
    out = std::move(joined);
  };
  std::int64_t column = 2 * width_;
  if (has_affixes()) {
    take_columns(ids, column, 2 * width_, affix_ids_);
    Tensor a = affixes().forward(affix_ids_);  // (N, 2k*a)
    append(a);
    column += 2 * width_;
  }
  if (has_characters()) {
    // each token's characters (N * k, L) -> its filters' maxima (N * k, F) -> (N, k * F)
    take_columns(ids, column, width_ * word_length_, char_ids_);
    char_ids_ = std::move(char_ids_).reshape({n * width_, word_length_});
    Tensor c = characters().forward(char_ids_);
    c = std::move(c).reshape({n, width_ * characters().filters()});
    append(c);
  }
  out_shape_ = is_training() ? out.shape() : Shape{};
  return out;
}

Tensor WindowEmbedding::backward(const Tensor& dout) {
  require_forward(!out_shape_.empty(), dout, out_shape_);
  const std::int64_t n = dout.size(0), wd = width_ * words().dim();
  // The parts from the last: characters' columns (k * F), affixes' (2k * a), then words
  // and shapes.
  const Tensor* rest = &dout;
  Tensor front;
  auto split_last = [&](std::int64_t last) {
    Tensor first = Tensor::empty({n, rest->size(1) - last}, dout.dtype());
    Tensor back = Tensor::empty({n, last}, dout.dtype());
    copy_rows(*rest, first, back, false);
    front = std::move(first);
    rest = &front;
    return back;
  };
  if (has_characters()) {
    Tensor dc = split_last(width_ * characters().filters());
    characters().backward(std::move(dc).reshape({n * width_, characters().filters()}));
  }
  if (has_affixes()) affixes().backward(split_last(2 * width_ * affixes().dim()));
  Tensor dw = Tensor::empty({n, wd}, dout.dtype());
  Tensor ds = Tensor::empty({n, rest->size(1) - wd}, dout.dtype());
  copy_rows(*rest, dw, ds, false);
  words().backward(dw);
  shapes().backward(ds);
  return Tensor();
}

}  // namespace nabla
