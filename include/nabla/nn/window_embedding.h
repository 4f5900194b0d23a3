// nabla/nn/window_embedding.h — the first layer of the lecture's window classifier: the
// vectors of the k tokens around each word, side by side.
//
// Each example is 2k int64 ids: the k tokens' word ids, then their shape ids (a small
// second vocabulary: capitalised, all caps, @mention, ...; see text/word_windows.h). The
// output row is the k word vectors, then the k shape vectors:
//
//   WindowEmbedding e(glove_table /* (V, d) */, shape_table /* (S, s) */, 5);
//   Tensor x = e.forward(ids);      // ids (N, 10) int64 -> (N, 5d + 5s)
//   e.backward(dx);                 // row gradients of both tables (embedding.h)
//
// Optionally a third table holds character affixes (a word's first and last letters,
// tasks/ner.h): then each example is 4k ids, the k tokens' word ids, shape ids, prefix ids
// and suffix ids, and the output row ends with the k prefix vectors and the k suffix
// vectors (both rows of the one affix table).
//
// Its parameters are the tables' (words.W, shapes.W, affixes.W); in a Sequential words.W1,
// shapes.W1 (and affixes.W1). Their gradients are rows (Module::row_gradients), which the
// Trainer hands to the optimizer's lazy step; set_grad_mode(EmbeddingGrad::dense) makes
// them dense grad()s, for gradient checks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/layers.h"

NABLA_API_BEGIN
namespace nabla {

class WindowEmbedding : public Layer {
 public:
  // words (V, d) and shapes (S, s) of one floating dtype (s may be 0: no shape vectors);
  // `width` tokens per window (2 * window + 1); affixes (A, a) of the same dtype, or an
  // undefined tensor for none.
  WindowEmbedding(Tensor words, Tensor shapes, std::int64_t width, Tensor affixes = Tensor());
  std::string kind() const override { return "WindowEmbedding"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<WindowEmbedding>(*this); }

  // ids int64 (N, 2 * width) -> (N, width * (d + s)); with affixes (N, 4 * width) ->
  // (N, width * (d + s + 2a)). ShapeError for another shape; ValueError naming an id
  // outside its table.
  Tensor forward(const Tensor& ids) override;
  // Row gradients of both tables from dout (N, width * (d + s)); returns an undefined
  // tensor (ids have no gradient).
  Tensor backward(const Tensor& dout) override;

  std::int64_t width() const { return width_; }
  bool has_affixes() const { return module_count() > 2; }
  // Ids per example: 2 * width, or 4 * width with affixes.
  std::int64_t ids_per_example() const { return (has_affixes() ? 4 : 2) * width_; }
  Embedding& words() { return static_cast<Embedding&>(module_at(0)); }
  const Embedding& words() const { return static_cast<const Embedding&>(module_at(0)); }
  Embedding& shapes() { return static_cast<Embedding&>(module_at(1)); }
  const Embedding& shapes() const { return static_cast<const Embedding&>(module_at(1)); }
  Embedding& affixes();  // (has_affixes() only)
  void set_grad_mode(EmbeddingGrad mode);

 private:
  std::int64_t width_;
  Tensor word_ids_, shape_ids_, affix_ids_;  // the parts of the latest forward's ids (reused)
  Shape out_shape_;              // of the latest training forward; empty when none
};

}  // namespace nabla
NABLA_API_END
