// TagTransitions (the transition scores, appended below the emissions) and CrfLoss (the
// sentence-level log-likelihood over them).
#include "nabla/nn/crf.h"

#include <cstring>
#include <string>
#include <utility>

#include "nabla/ops/crf.h"

namespace nabla {
namespace {

// Rows [begin, begin + count) of a (R, K) tensor, copied.
Tensor take_rows(const Tensor& t, std::int64_t begin, std::int64_t count) {
  const std::int64_t k = t.size(1);
  Tensor out({count, k}, t.dtype());
  const std::size_t row = static_cast<std::size_t>(k) * dtype_size(t.dtype());
  if (count > 0) {
    std::memcpy(out.raw(),
                static_cast<const char*>(t.raw()) + static_cast<std::size_t>(begin) * row,
                static_cast<std::size_t>(count) * row);
  }
  return out;
}

}  // namespace

TagTransitions::TagTransitions(Tensor transitions, Tensor allowed) {
  if (transitions.rank() != 2 || transitions.size(1) < 1 ||
      transitions.size(0) != transitions.size(1) + 2 || allowed.shape() != transitions.shape() ||
      allowed.dtype() != transitions.dtype() ||
      (transitions.dtype() != DType::f32 && transitions.dtype() != DType::f64)) {
    throw ShapeError(
        "TagTransitions: expected transitions (K + 2, K) and allowed of the same "
        "shape, float32 or float64, got " +
        std::string(dtype_name(transitions.dtype())) + shape_str(transitions.shape()) + " and " +
        dtype_name(allowed.dtype()) + shape_str(allowed.shape()));
  }
  register_parameter("transitions", std::move(transitions));
  register_buffer("allowed", std::move(allowed));
}

Tensor TagTransitions::forward(const Tensor& x) {
  const Tensor& a = parameter_at(0).value();
  const std::int64_t k = tags();
  if (x.rank() != 2 || x.size(1) != k || x.dtype() != a.dtype()) {
    throw ShapeError("TagTransitions: emissions " + std::string(dtype_name(x.dtype())) +
                     shape_str(x.shape()) + ", expected (N, " + std::to_string(k) + ") " +
                     dtype_name(a.dtype()));
  }
  const std::int64_t n = x.size(0);
  Tensor out({n + k + 2, k}, x.dtype());
  visit_dtype(x.dtype(), [&](auto type) {
    using T = decltype(type);
    std::memcpy(out.raw(), x.raw(), x.nbytes());
    T* tail = out.data<T>() + n * k;
    const T* pa = a.data<T>();
    const T* ok = allowed().data<T>();
    for (std::int64_t i = 0; i < (k + 2) * k; ++i) {
      tail[i] = ok[i] != T(0) ? pa[i] : static_cast<T>(kForbidden);
    }
  });
  rows_ = is_training() ? n : -1;
  return out;
}

Tensor TagTransitions::backward(const Tensor& dout) {
  require_forward(rows_ >= 0);
  const std::int64_t k = tags(), n = rows_;
  require_forward(true, dout, Shape{n + k + 2, k});
  Var& a = parameter_at(0);
  visit_dtype(dout.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* tail = dout.data<T>() + n * k;
    const T* ok = allowed().data<T>();
    T* g = a.grad().data<T>();
    for (std::int64_t i = 0; i < (k + 2) * k; ++i) {
      if (ok[i] != T(0)) g[i] += tail[i];
    }
  });
  return input_grad_ ? take_rows(dout, 0, n) : Tensor();
}

SentenceScores sentence_scores(const Tensor& scores) {
  if (scores.rank() != 2 || scores.size(1) < 1 || scores.size(0) < scores.size(1) + 2) {
    throw ShapeError("sentence_scores: scores " + shape_str(scores.shape()) +
                     ", expected (N + K + 2, K): emissions, then transitions (TagTransitions)");
  }
  const std::int64_t k = scores.size(1), n = scores.size(0) - k - 2;
  return {take_rows(scores, 0, n), take_rows(scores, n, k + 2)};
}

double CrfLoss::forward(const Tensor& scores, const Targets& t) {
  if (t.lengths().empty()) {
    throw ValueError("CrfLoss: the targets need the sentences' lengths (Targets(tags, lengths))");
  }
  const SentenceScores s = sentence_scores(scores);
  tags_ = t.indices(s.emissions.size(0), s.emissions.size(1), "CrfLoss");
  lengths_ = t.lengths();
  scores_ = scores;
  return crf_loss(s.emissions, s.transitions, tags_, lengths_);
}

Tensor CrfLoss::backward(double dout) {
  if (!scores_.defined()) throw ValueError("CrfLoss: backward needs a forward first");
  const SentenceScores s = sentence_scores(scores_);
  Tensor de, da;
  crf_loss_gradient(s.emissions, s.transitions, tags_, lengths_, dout, de, da);
  const std::int64_t n = de.size(0), k = de.size(1);
  Tensor out({n + k + 2, k}, de.dtype());
  std::memcpy(out.raw(), de.raw(), de.nbytes());
  std::memcpy(static_cast<char*>(out.raw()) + de.nbytes(), da.raw(), da.nbytes());
  return out;
}

}  // namespace nabla
