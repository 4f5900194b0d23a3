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
// Optionally, too, each token's spelling goes through a character convolution
// (char_convolution.h): then each example ends with the k tokens' characters, L ids per
// token (word_length), and the output row ends with the k tokens' F filter maxima.
//
// Its parameters are the tables' (words.W, shapes.W, affixes.W) and the convolution's
// (characters.W, characters.b, characters.chars.W); in a Sequential words.W1, shapes.W1,
// ... . Their gradients are rows (Module::row_gradients), which the
// Trainer hands to the optimizer's lazy step; set_grad_mode(EmbeddingGrad::dense) makes
// them dense grad()s, for gradient checks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/char_convolution.h"
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
  // ... and a character convolution over each token's word_length character ids.
  WindowEmbedding(Tensor words, Tensor shapes, std::int64_t width, Tensor affixes,
                  std::unique_ptr<CharConvolution> characters, std::int64_t word_length);
  std::string kind() const override { return "WindowEmbedding"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<WindowEmbedding>(*this); }

  // ids int64 (N, 2 * width) -> (N, width * (d + s)); with affixes (N, 4 * width) ->
  // (N, width * (d + s + 2a)); characters add width * L ids and width * F values.
  // ShapeError for another shape; ValueError naming an id outside its table.
  Tensor forward(const Tensor& ids) override;
  // Row gradients of both tables from dout (N, width * (d + s)); returns an undefined
  // tensor (ids have no gradient).
  Tensor backward(const Tensor& dout) override;

  std::int64_t width() const { return width_; }
  bool has_affixes() const { return affixes_at_ > 0; }
  bool has_characters() const { return characters_at_ > 0; }
  std::int64_t word_length() const { return word_length_; }  // (0 without characters)
  // Ids per example: 2 * width, or 4 * width with affixes; + width * L with characters.
  std::int64_t ids_per_example() const {
    return (has_affixes() ? 4 : 2) * width_ + width_ * word_length_;
  }
  Embedding& words() { return static_cast<Embedding&>(module_at(0)); }
  const Embedding& words() const { return static_cast<const Embedding&>(module_at(0)); }
  Embedding& shapes() { return static_cast<Embedding&>(module_at(1)); }
  const Embedding& shapes() const { return static_cast<const Embedding&>(module_at(1)); }
  Embedding& affixes();           // (has_affixes() only)
  CharConvolution& characters();  // (has_characters() only)
  void set_grad_mode(EmbeddingGrad mode);

 private:
  std::int64_t width_;
  std::size_t affixes_at_ = 0, characters_at_ = 0;  // their modules' indices (0: none)
  std::int64_t word_length_ = 0;
  // the parts of the latest forward's ids (reused)
  Tensor word_ids_, shape_ids_, affix_ids_, char_ids_;
  Shape out_shape_;              // of the latest training forward; empty when none
};

}  // namespace nabla
NABLA_API_END
