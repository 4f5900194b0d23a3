// nabla/ops/crf.h — sentence-level tag scores (Collobert et al. 2011's "sentence-level
// log-likelihood", a linear-chain CRF): the score of a tag path, the log-sum-exp over every
// path of a sentence (the forward recursion) and its gradient, and Viterbi decoding.
//
// A batch is sentences one after another: emissions E (N, K), the network's score of each
// of K tags at each of the N tokens, and `lengths` (tokens per sentence, summing to N).
// The transition scores A (K + 2, K) are shared: A[i][j] scores tag j right after tag i,
// A[K][j] a sentence that starts with j, A[K + 1][j] one that ends with j. A path y of a
// sentence of n tokens scores
//
//   s(y) = A[K][y_0] + sum_t E[t][y_t] + sum_{t > 0} A[y_{t-1}][y_t] + A[K + 1][y_{n-1}]
//
// and its loss is -log p(y) = log Z - s(y), log Z = log sum over all K^n paths of exp s.
// The forward recursion finds log Z in n K^2 steps:
//
//   alpha_0[j] = A[K][j] + E[0][j]
//   alpha_t[j] = E[t][j] + logsumexp_i (alpha_{t-1}[i] + A[i][j])
//   log Z      = logsumexp_j (alpha_{n-1}[j] + A[K + 1][j])
//
// and its gradient is the paths' expected counts (the backward recursion beta gives the
// marginals): d log Z / dE[t][j] = p(y_t = j), d log Z / dA[i][j] = sum_t p(y_{t-1} = i,
// y_t = j), d log Z / dA[K][j] = p(y_0 = j), d log Z / dA[K + 1][j] = p(y_{n-1} = j).
// The gold path's counts are subtracted: a one at each of its emissions and transitions.
//
//   double loss = crf_loss(E, A, tags, lengths);               // mean over the sentences
//   crf_loss_gradient(E, A, tags, lengths, 1.0, dE, dA);       // dE (N, K), dA (K + 2, K)
//   std::vector<std::int64_t> best = viterbi_decode(E, A, lengths);
//
// The sums run in double whatever the tensors' dtype (float32 or float64).
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

// The mean over the sentences of log Z - s(gold path). tags: N tag ids in [0, K).
// ShapeError for E not (N, K), A not (K + 2, K), lengths not summing to N; ValueError
// for a tag out of range or a negative length. A sentence of length 0 adds 0.
double crf_loss(const Tensor& emissions, const Tensor& transitions,
                const std::vector<std::int64_t>& tags, const std::vector<std::int64_t>& lengths);

// The gradient of crf_loss times dout: written into d_emissions (N, K) and d_transitions
// (K + 2, K) (resized, in the inputs' dtype). Checks as crf_loss.
void crf_loss_gradient(const Tensor& emissions, const Tensor& transitions,
                       const std::vector<std::int64_t>& tags,
                       const std::vector<std::int64_t>& lengths, double dout, Tensor& d_emissions,
                       Tensor& d_transitions);

// log Z of each sentence (the forward recursion).
std::vector<double> crf_log_partition(const Tensor& emissions, const Tensor& transitions,
                                      const std::vector<std::int64_t>& lengths);

// s(y) of each sentence's path `tags`.
std::vector<double> crf_path_scores(const Tensor& emissions, const Tensor& transitions,
                                    const std::vector<std::int64_t>& tags,
                                    const std::vector<std::int64_t>& lengths);

// The highest-scoring path of each sentence (max instead of logsumexp in the recursion,
// then back-pointers), as N tag ids; ties go to the lowest tag id.
std::vector<std::int64_t> viterbi_decode(const Tensor& emissions, const Tensor& transitions,
                                         const std::vector<std::int64_t>& lengths);

}  // namespace nabla
NABLA_API_END
