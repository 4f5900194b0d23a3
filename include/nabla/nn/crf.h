// nabla/nn/crf.h — the sentence-level loss as layers of a Sequential (ops/crf.h's math):
// TagTransitions holds the transition scores, CrfLoss is the loss over all tag paths.
//
//   ... -> affine:K (emissions (N, K)) -> TagTransitions -> CrfLoss
//
// TagTransitions passes its input through and appends the transition scores below it:
// its output is (N + K + 2, K), the N emission rows and then A (K + 2, K) (ops/crf.h's
// layout). So the scores a network predicts hold all a decoder needs
// (sentence_scores, viterbi_decode), and the loss's gradient for those rows is A's.
// Transitions may be forbidden (BIO constraints: tasks/ner.h's bio_allowed): the layer's
// buffer `allowed` (K + 2, K) of ones and zeros; a forbidden entry's score is kForbidden,
// whatever its parameter, and its gradient 0, so no path through it is ever
// decoded and the loss sums over the allowed paths only.
//
// CrfLoss needs the sentences' lengths: Targets(tags, lengths) (layers.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/layers.h"

NABLA_API_BEGIN
namespace nabla {

class TagTransitions : public Layer {
 public:
  // The score of a forbidden transition: exp of it is 0 in double, and in float32 it
  // stays finite.
  static constexpr double kForbidden = -1e4;

  // transitions (K + 2, K) float32 or float64; allowed of the same shape and dtype (1:
  // allowed, 0: forbidden). ShapeError naming the shapes otherwise.
  TagTransitions(Tensor transitions, Tensor allowed);
  std::string kind() const override { return "TagTransitions"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<TagTransitions>(*this); }

  // emissions (N, K) -> (N + K + 2, K): the emissions, then the transition scores with
  // the forbidden ones at kForbidden.
  Tensor forward(const Tensor& x) override;
  // dout (N + K + 2, K): adds its last K + 2 rows into the transitions' grad (allowed
  // entries only) and returns the first N rows.
  Tensor backward(const Tensor& dout) override;

  std::int64_t tags() const { return parameter_at(0).value().size(1); }
  Var& transitions() { return parameter_at(0); }
  Tensor& allowed() { return buffer_at(0); }
  const Tensor& allowed() const { return buffer_at(0); }

 private:
  std::int64_t rows_ = -1;  // N of the latest training forward; -1 when none
};

// A network's output with TagTransitions last, split: emissions (N, K) and transitions
// (K + 2, K) (copies). ShapeError when scores is not (N + K + 2, K).
struct SentenceScores {
  Tensor emissions, transitions;
};
SentenceScores sentence_scores(const Tensor& scores);

// The sentence-level log-likelihood (crf_loss): the mean over the batch's sentences of
// log Z - s(gold). Its scores are TagTransitions' output.
class CrfLoss : public LossLayer {
 public:
  std::string kind() const override { return "CrfLoss"; }
  std::unique_ptr<LossLayer> copy() const override { return std::make_unique<CrfLoss>(*this); }
  // scores (N + K + 2, K); t: N tag ids and the sentences' lengths (ValueError without).
  double forward(const Tensor& scores, const Targets& t) override;
  Tensor backward(double dout = 1.0) override;

 private:
  Tensor scores_;
  std::vector<std::int64_t> tags_, lengths_;
};

}  // namespace nabla
NABLA_API_END
