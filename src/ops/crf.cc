// Sentence-level tag scores: path scores, the forward recursion (log Z) and its gradient
// by forward-backward, and Viterbi. The sums run in double.
#include "nabla/ops/crf.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace nabla {
namespace {

// E and A as doubles, checked against each other and the lengths.
struct Scores {
  std::int64_t n = 0, k = 0;
  std::vector<double> e;  // (N, K)
  std::vector<double> a;  // (K + 2, K)
  double emit(std::int64_t t, std::int64_t j) const {
    return e[static_cast<std::size_t>(t * k + j)];
  }
  double trans(std::int64_t i, std::int64_t j) const {
    return a[static_cast<std::size_t>(i * k + j)];
  }
};

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<std::size_t>(t.numel()));
  visit_dtype(t.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* p = t.data<T>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(p[i]);
  });
  return out;
}

Scores read_scores(const char* op, const Tensor& emissions, const Tensor& transitions,
                   const std::vector<std::int64_t>& lengths) {
  if (emissions.rank() != 2 || emissions.size(1) < 1) {
    throw ShapeError(std::string(op) + ": emissions " + shape_str(emissions.shape()) +
                     ", expected (tokens, tags)");
  }
  const std::int64_t n = emissions.size(0), k = emissions.size(1);
  if (transitions.shape() != Shape{k + 2, k}) {
    throw ShapeError(std::string(op) + ": transitions " + shape_str(transitions.shape()) +
                     ", expected (tags + 2, tags) = " + shape_str(Shape{k + 2, k}));
  }
  if (emissions.dtype() != transitions.dtype() ||
      (emissions.dtype() != DType::f32 && emissions.dtype() != DType::f64)) {
    throw ValueError(std::string(op) +
                     ": emissions and transitions must be float32 or float64, "
                     "of one dtype");
  }
  std::int64_t total = 0;
  for (std::int64_t len : lengths) {
    if (len < 0)
      throw ValueError(std::string(op) + ": a sentence of length " + std::to_string(len));
    total += len;
  }
  if (total != n) {
    throw ShapeError(std::string(op) + ": sentences of " + std::to_string(total) +
                     " tokens in all for emissions " + shape_str(emissions.shape()));
  }
  return Scores{n, k, as_doubles(emissions), as_doubles(transitions)};
}

void check_tags(const char* op, const std::vector<std::int64_t>& tags, const Scores& s) {
  if (static_cast<std::int64_t>(tags.size()) != s.n) {
    throw ShapeError(std::string(op) + ": " + std::to_string(tags.size()) + " tags for " +
                     std::to_string(s.n) + " tokens");
  }
  for (std::size_t t = 0; t < tags.size(); ++t) {
    if (tags[t] < 0 || tags[t] >= s.k) {
      throw ValueError(std::string(op) + ": tag " + std::to_string(tags[t]) + " at token " +
                       std::to_string(t) + " out of range [0, " + std::to_string(s.k) + ")");
    }
  }
}

double log_sum_exp(const double* x, std::int64_t n) {
  const double m = *std::max_element(x, x + n);
  if (!std::isfinite(m)) return m;
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - m);
  return m + std::log(sum);
}

// alpha (len, K) of the sentence starting at token `begin`; returns log Z.
double forward_recursion(const Scores& s, std::int64_t begin, std::int64_t len,
                         std::vector<double>& alpha) {
  const std::int64_t k = s.k;
  alpha.assign(static_cast<std::size_t>(len * k), 0.0);
  std::vector<double> terms(static_cast<std::size_t>(k));
  for (std::int64_t j = 0; j < k; ++j)
    alpha[static_cast<std::size_t>(j)] = s.trans(k, j) + s.emit(begin, j);
  for (std::int64_t t = 1; t < len; ++t) {
    const double* prev = alpha.data() + (t - 1) * k;
    for (std::int64_t j = 0; j < k; ++j) {
      for (std::int64_t i = 0; i < k; ++i)
        terms[static_cast<std::size_t>(i)] = prev[i] + s.trans(i, j);
      alpha[static_cast<std::size_t>(t * k + j)] =
          s.emit(begin + t, j) + log_sum_exp(terms.data(), k);
    }
  }
  const double* last = alpha.data() + (len - 1) * k;
  for (std::int64_t j = 0; j < k; ++j)
    terms[static_cast<std::size_t>(j)] = last[j] + s.trans(k + 1, j);
  return log_sum_exp(terms.data(), k);
}

// beta (len, K): beta_t[i] = log sum over the paths' rest after tag i at t.
void backward_recursion(const Scores& s, std::int64_t begin, std::int64_t len,
                        std::vector<double>& beta) {
  const std::int64_t k = s.k;
  beta.assign(static_cast<std::size_t>(len * k), 0.0);
  std::vector<double> terms(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < k; ++i)
    beta[static_cast<std::size_t>((len - 1) * k + i)] = s.trans(k + 1, i);
  for (std::int64_t t = len - 2; t >= 0; --t) {
    const double* next = beta.data() + (t + 1) * k;
    for (std::int64_t i = 0; i < k; ++i) {
      for (std::int64_t j = 0; j < k; ++j) {
        terms[static_cast<std::size_t>(j)] = s.trans(i, j) + s.emit(begin + t + 1, j) + next[j];
      }
      beta[static_cast<std::size_t>(t * k + i)] = log_sum_exp(terms.data(), k);
    }
  }
}

double path_score(const Scores& s, const std::int64_t* y, std::int64_t begin, std::int64_t len) {
  const std::int64_t k = s.k;
  double score = s.trans(k, y[0]) + s.trans(k + 1, y[len - 1]);
  for (std::int64_t t = 0; t < len; ++t) {
    score += s.emit(begin + t, y[t]);
    if (t > 0) score += s.trans(y[t - 1], y[t]);
  }
  return score;
}

Tensor from_doubles(const std::vector<double>& v, const Shape& shape, DType dtype) {
  Tensor out(shape, dtype);
  visit_dtype(dtype, [&](auto type) {
    using T = decltype(type);
    T* p = out.data<T>();
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
  });
  return out;
}

}  // namespace

std::vector<double> crf_log_partition(const Tensor& emissions, const Tensor& transitions,
                                      const std::vector<std::int64_t>& lengths) {
  const Scores s = read_scores("crf_log_partition", emissions, transitions, lengths);
  std::vector<double> out, alpha;
  std::int64_t begin = 0;
  for (std::int64_t len : lengths) {
    out.push_back(len == 0 ? 0.0 : forward_recursion(s, begin, len, alpha));
    begin += len;
  }
  return out;
}

std::vector<double> crf_path_scores(const Tensor& emissions, const Tensor& transitions,
                                    const std::vector<std::int64_t>& tags,
                                    const std::vector<std::int64_t>& lengths) {
  const Scores s = read_scores("crf_path_scores", emissions, transitions, lengths);
  check_tags("crf_path_scores", tags, s);
  std::vector<double> out;
  std::int64_t begin = 0;
  for (std::int64_t len : lengths) {
    out.push_back(len == 0 ? 0.0 : path_score(s, tags.data() + begin, begin, len));
    begin += len;
  }
  return out;
}

double crf_loss(const Tensor& emissions, const Tensor& transitions,
                const std::vector<std::int64_t>& tags, const std::vector<std::int64_t>& lengths) {
  const Scores s = read_scores("crf_loss", emissions, transitions, lengths);
  check_tags("crf_loss", tags, s);
  if (lengths.empty()) return 0;
  double total = 0;
  std::vector<double> alpha;
  std::int64_t begin = 0;
  for (std::int64_t len : lengths) {
    if (len > 0) {
      total +=
          forward_recursion(s, begin, len, alpha) - path_score(s, tags.data() + begin, begin, len);
    }
    begin += len;
  }
  return total / static_cast<double>(lengths.size());
}

void crf_loss_gradient(const Tensor& emissions, const Tensor& transitions,
                       const std::vector<std::int64_t>& tags,
                       const std::vector<std::int64_t>& lengths, double dout, Tensor& d_emissions,
                       Tensor& d_transitions) {
  const Scores s = read_scores("crf_loss_gradient", emissions, transitions, lengths);
  check_tags("crf_loss_gradient", tags, s);
  const std::int64_t k = s.k;
  std::vector<double> de(static_cast<std::size_t>(s.n * k), 0.0);
  std::vector<double> da(static_cast<std::size_t>((k + 2) * k), 0.0);
  const double scale = lengths.empty() ? 0.0 : dout / static_cast<double>(lengths.size());
  auto dA = [&](std::int64_t i, std::int64_t j) -> double& {
    return da[static_cast<std::size_t>(i * k + j)];
  };
  std::vector<double> alpha, beta;
  std::int64_t begin = 0;
  for (std::int64_t len : lengths) {
    if (len == 0) continue;
    const double log_z = forward_recursion(s, begin, len, alpha);
    backward_recursion(s, begin, len, beta);
    // Expected counts: p(y_t = j) = exp(alpha_t[j] + beta_t[j] - log Z).
    for (std::int64_t t = 0; t < len; ++t) {
      for (std::int64_t j = 0; j < k; ++j) {
        const auto at = static_cast<std::size_t>(t * k + j);
        const double p = std::exp(alpha[at] + beta[at] - log_z);
        de[static_cast<std::size_t>((begin + t) * k + j)] += scale * p;
        if (t == 0) dA(k, j) += scale * p;
        if (t == len - 1) dA(k + 1, j) += scale * p;
      }
    }
    // p(y_{t-1} = i, y_t = j) = exp(alpha_{t-1}[i] + A[i][j] + E[t][j] + beta_t[j] - log Z).
    for (std::int64_t t = 1; t < len; ++t) {
      for (std::int64_t i = 0; i < k; ++i) {
        const double from = alpha[static_cast<std::size_t>((t - 1) * k + i)];
        for (std::int64_t j = 0; j < k; ++j) {
          const double to = s.emit(begin + t, j) + beta[static_cast<std::size_t>(t * k + j)];
          dA(i, j) += scale * std::exp(from + s.trans(i, j) + to - log_z);
        }
      }
    }
    // Minus the gold path's counts.
    const std::int64_t* y = tags.data() + begin;
    dA(k, y[0]) -= scale;
    dA(k + 1, y[len - 1]) -= scale;
    for (std::int64_t t = 0; t < len; ++t) {
      de[static_cast<std::size_t>((begin + t) * k + y[t])] -= scale;
      if (t > 0) dA(y[t - 1], y[t]) -= scale;
    }
    begin += len;
  }
  d_emissions = from_doubles(de, emissions.shape(), emissions.dtype());
  d_transitions = from_doubles(da, transitions.shape(), transitions.dtype());
}

std::vector<std::int64_t> viterbi_decode(const Tensor& emissions, const Tensor& transitions,
                                         const std::vector<std::int64_t>& lengths) {
  const Scores s = read_scores("viterbi_decode", emissions, transitions, lengths);
  const std::int64_t k = s.k;
  std::vector<std::int64_t> out(static_cast<std::size_t>(s.n));
  std::vector<double> best, next(static_cast<std::size_t>(k));
  std::vector<std::int64_t> from;  // (len, K) back-pointers
  std::int64_t begin = 0;
  for (std::int64_t len : lengths) {
    if (len == 0) continue;
    best.assign(static_cast<std::size_t>(k), 0.0);
    from.assign(static_cast<std::size_t>(len * k), 0);
    for (std::int64_t j = 0; j < k; ++j)
      best[static_cast<std::size_t>(j)] = s.trans(k, j) + s.emit(begin, j);
    for (std::int64_t t = 1; t < len; ++t) {
      for (std::int64_t j = 0; j < k; ++j) {
        std::int64_t arg = 0;
        double top = -std::numeric_limits<double>::infinity();
        for (std::int64_t i = 0; i < k; ++i) {
          const double v = best[static_cast<std::size_t>(i)] + s.trans(i, j);
          if (v > top) {
            top = v;
            arg = i;
          }
        }
        next[static_cast<std::size_t>(j)] = top + s.emit(begin + t, j);
        from[static_cast<std::size_t>(t * k + j)] = arg;
      }
      best.swap(next);
    }
    std::int64_t tag = 0;
    double top = -std::numeric_limits<double>::infinity();
    for (std::int64_t j = 0; j < k; ++j) {
      const double v = best[static_cast<std::size_t>(j)] + s.trans(k + 1, j);
      if (v > top) {
        top = v;
        tag = j;
      }
    }
    for (std::int64_t t = len - 1; t >= 0; --t) {
      out[static_cast<std::size_t>(begin + t)] = tag;
      tag = from[static_cast<std::size_t>(t * k + tag)];
    }
    begin += len;
  }
  return out;
}

}  // namespace nabla
