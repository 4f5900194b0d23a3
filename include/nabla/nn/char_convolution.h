// nabla/nn/char_convolution.h — a word's spelling as one vector: character vectors, a
// convolution over each run of `width` characters, and the maximum of each filter over the
// word (the character CNN of Ma & Hovy 2016 and Lample et al. 2016's taggers).
//
// Each example is one word as L int64 character ids (0 for padding, see tasks/ner.h for
// how a tagger spells its tokens). For position p in [0, L - width] the layer scores the
// width characters from p on with F filters, and each filter keeps its best position:
//
//   CharConvolution c(chars /* (C, e) */, W /* (width * e, F) */, b /* (F) */);
//   Tensor y = c.forward(ids);   // ids (M, L) int64 -> (M, F)
//   c.backward(dy);              // dW, db, and the row gradients of the character table
//
//   y[m, f] = max over p of  b[f] + sum_j E[m, p * e + j] * W[j, f],  j in [0, width * e)
//
// where E[m] is the word's L character vectors side by side. A word that occurs several
// times in a batch (a window tagger sees each token in 2 * window + 1 windows) is scored
// once. The maximum's gradient goes to the position that won (ties: the first).
//
// Parameters: W, b, and the table chars.W (row gradients in sparse mode, as Embedding's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/layers.h"

NABLA_API_BEGIN
namespace nabla {

class CharConvolution : public Layer {
 public:
  // chars (C, e), W (width * e, F), b (F), all of one floating dtype; the width is
  // W's rows / e. ShapeError when they do not fit.
  CharConvolution(Tensor chars, Tensor W, Tensor b);
  std::string kind() const override { return "CharConvolution"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<CharConvolution>(*this); }

  // ids int64 (M, L), L >= width -> (M, F). ShapeError for another shape; ValueError
  // naming an id outside the table.
  Tensor forward(const Tensor& ids) override;
  // dout (M, F): adds into dW, db and the table's gradient; returns an undefined tensor.
  Tensor backward(const Tensor& dout) override;

  Var& W() { return parameter_at(0); }
  const Var& W() const { return parameter_at(0); }
  Var& b() { return parameter_at(1); }
  const Var& b() const { return parameter_at(1); }
  Embedding& chars() { return static_cast<Embedding&>(module_at(0)); }
  const Embedding& chars() const { return static_cast<const Embedding&>(module_at(0)); }
  std::int64_t width() const { return W().value().size(0) / chars().dim(); }
  std::int64_t filters() const { return W().value().size(1); }

 private:
  // The latest training forward's: each example's distinct word (index into the words),
  // the words' windows of characters' vectors (U * P, width * e) and each (word, filter)'s
  // best position (U, F).
  std::vector<std::int64_t> word_of_;
  Tensor windows_;
  std::vector<std::int64_t> best_;
  std::int64_t positions_ = 0, length_ = 0;
  Shape out_shape_;  // empty when there is no training forward
};

}  // namespace nabla
NABLA_API_END
