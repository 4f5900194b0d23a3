// nabla/logistic_loss.h — the binary logistic loss: sigmoid of a score and cross-entropy
// in one stable op, for yes/no classifiers ("is the centre word a location?").
//
// With p = sigmoid(s) and a target t in {0, 1}, the loss of one example is
//   -t log p - (1 - t) log(1 - p) = max(s, 0) - t s + log(1 + exp(-|s|)),
// the right-hand form never overflows and never takes log(0). The op returns the mean
// over the batch; its backward is the same simple form as softmax-with-loss's:
//   dJ/ds_i = (sigmoid(s_i) - t_i) / N.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

// scores (N) or (N, 1); targets N values, each 0 or 1 (ValueError otherwise).
Var binary_logistic_loss(const Var& scores, const std::vector<std::int64_t>& targets);

}  // namespace nabla
NABLA_API_END
