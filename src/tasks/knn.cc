#include "nabla/tasks/knn.h"
#include "nabla/detail/workers.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "kernels/kernels.h"

namespace nabla {

Distance parse_distance(const std::string& name) {
  if (name == "l1") return Distance::l1;
  if (name == "l2") return Distance::l2;
  throw ValueError("knn: unknown distance '" + name + "' (use l1 or l2)");
}

const char* distance_name(Distance d) { return d == Distance::l1 ? "l1" : "l2"; }

std::int64_t l1_distance(const std::uint8_t* a, const std::uint8_t* b, std::int64_t n) {
  return kernels::active().l1_distance(a, b, n);
}

std::int64_t majority_vote(const std::int64_t* labels, std::int64_t k, std::int64_t classes) {
  std::vector<std::int64_t> votes(static_cast<std::size_t>(classes), 0);
  std::int64_t top = 0;
  for (std::int64_t j = 0; j < k; ++j) {
    top = std::max(top, ++votes[static_cast<std::size_t>(labels[j])]);
  }
  // Among the classes with the most votes, the one whose member is nearest.
  for (std::int64_t j = 0; j < k; ++j) {
    if (votes[static_cast<std::size_t>(labels[j])] == top) return labels[j];
  }
  return labels[0];
}

namespace {

// The k smallest distances seen so far, sorted; on equal distance the earlier candidate
// (lower training index) stays ahead.
class TopK {
 public:
  explicit TopK(std::int64_t k)
      : k_(k),
        dist_(static_cast<std::size_t>(k), std::numeric_limits<float>::infinity()),
        index_(static_cast<std::size_t>(k), -1) {}
  float worst() const { return dist_.back(); }
  void offer(float d, std::int64_t index) {
    if (!(d < dist_.back())) return;
    std::size_t j = static_cast<std::size_t>(k_) - 1;
    while (j > 0 && d < dist_[j - 1]) {
      dist_[j] = dist_[j - 1];
      index_[j] = index_[j - 1];
      --j;
    }
    dist_[j] = d;
    index_[j] = index;
  }
  const std::vector<std::int64_t>& indices() const { return index_; }

 private:
  std::int64_t k_;
  std::vector<float> dist_;
  std::vector<std::int64_t> index_;
};

// A dataset whose buffers hold what its size says: rows beyond them would be read from
// memory that is not the data (or not there at all).
void check_dataset(const Dataset& data, const char* what) {
  if (data.size < 0 || data.features < 1 || data.classes < 1 ||
      data.images.size() != static_cast<std::size_t>(data.size * data.features) ||
      data.labels.size() != static_cast<std::size_t>(data.size)) {
    throw ValueError(std::string("knn: the ") + what + " set claims " + std::to_string(data.size) +
                     " rows of " + std::to_string(data.features) + " features in " +
                     std::to_string(data.classes) + " classes, but holds " +
                     std::to_string(data.images.size()) + " pixels and " +
                     std::to_string(data.labels.size()) + " labels");
  }
}

void check_compatible(const Dataset& train, const Dataset& queries, std::int64_t begin,
                      std::int64_t count, std::int64_t k) {
  check_dataset(queries, "query");
  if (queries.features != train.features) {
    throw ShapeError("knn: queries have " + std::to_string(queries.features) +
                     " features, training rows " + std::to_string(train.features));
  }
  if (begin < 0 || count < 0 || begin + count > queries.size) {
    throw ValueError("knn: query rows [" + std::to_string(begin) + ", " +
                     std::to_string(begin + count) + ") outside [0, " +
                     std::to_string(queries.size) + ")");
  }
  if (k < 1 || k > train.size) {
    throw ValueError("knn: k = " + std::to_string(k) + " must be in [1, " +
                     std::to_string(train.size) + "]");
  }
}

}  // namespace

KNearestNeighbor::KNearestNeighbor(KNearestNeighbor&&) noexcept = default;
KNearestNeighbor::~KNearestNeighbor() = default;

KNearestNeighbor::KNearestNeighbor(const Dataset& train, Distance distance, int threads)
    : train_(train), distance_(distance), workers_(std::make_unique<Workers>(threads)) {
  check_dataset(train, "training");
  for (std::int64_t i = 0; i < train.size; ++i) {
    const std::int64_t label = train.labels[static_cast<std::size_t>(i)];
    if (label >= train.classes) {
      throw ValueError("knn: training row " + std::to_string(i) + " has label " +
                       std::to_string(label) + ", not below its " + std::to_string(train.classes) +
                       " classes");
    }
  }
  if (distance_ == Distance::l2) {
    train_norms_.resize(static_cast<std::size_t>(train.size));
    const std::int64_t d = train.features;
    for (std::int64_t i = 0; i < train.size; ++i) {
      const std::uint8_t* row = train.images.data() + i * d;
      std::int64_t s = 0;
      for (std::int64_t p = 0; p < d; ++p) s += int{row[p]} * int{row[p]};
      train_norms_[static_cast<std::size_t>(i)] = static_cast<float>(s);
    }
  }
}

std::vector<std::int64_t> KNearestNeighbor::neighbours(const Dataset& queries, std::int64_t begin,
                                                       std::int64_t count, std::int64_t k,
                                                       std::int64_t skip_begin,
                                                       std::int64_t skip_end) const {
  check_compatible(train_, queries, begin, count, k);
  if (train_.size - std::max<std::int64_t>(0, skip_end - skip_begin) < k) {
    throw ValueError("knn: fewer than k = " + std::to_string(k) + " training rows left");
  }
  const std::int64_t d = train_.features, n = train_.size;
  std::vector<std::int64_t> result(static_cast<std::size_t>(count * k));
  auto skipped = [&](std::int64_t t) { return t >= skip_begin && t < skip_end; };
  auto store = [&](std::int64_t q, const TopK& top) {
    std::copy(top.indices().begin(), top.indices().end(),
              result.begin() + static_cast<std::ptrdiff_t>(q * k));
  };

  if (distance_ == Distance::l1) {
    // Cache blocking: a block of queries against a chunk of training rows at a time,
    // so each training chunk is read from memory once per query block.
    constexpr std::int64_t kQueryBlock = 64, kTrainChunk = 512;
    const auto l1 = kernels::active().l1_distance;
    workers_->run([&](int part, int parts) {
      auto [b0, b1] = part_range((count + kQueryBlock - 1) / kQueryBlock, part, parts);
      for (std::int64_t blk = b0; blk < b1; ++blk) {
        std::int64_t q0 = blk * kQueryBlock, q1 = std::min(count, q0 + kQueryBlock);
        std::vector<TopK> tops(static_cast<std::size_t>(q1 - q0), TopK(k));
        for (std::int64_t t0 = 0; t0 < n; t0 += kTrainChunk) {
          std::int64_t t1 = std::min(n, t0 + kTrainChunk);
          for (std::int64_t q = q0; q < q1; ++q) {
            const std::uint8_t* a = queries.images.data() + (begin + q) * d;
            TopK& top = tops[static_cast<std::size_t>(q - q0)];
            for (std::int64_t t = t0; t < t1; ++t) {
              if (skipped(t)) continue;
              top.offer(static_cast<float>(l1(a, train_.images.data() + t * d, d)), t);
            }
          }
        }
        for (std::int64_t q = q0; q < q1; ++q) store(q, tops[static_cast<std::size_t>(q - q0)]);
      }
    });
    return result;
  }

  // L2: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b; the a.b of a query block against a training
  // chunk is one matrix product.
  constexpr std::int64_t kQueryBlock = 256, kTrainChunk = 4096;
  std::vector<float> qf(static_cast<std::size_t>(kQueryBlock * d));
  std::vector<float> tf(static_cast<std::size_t>(kTrainChunk * d));
  std::vector<float> dots(static_cast<std::size_t>(kQueryBlock * kTrainChunk));
  for (std::int64_t q0 = 0; q0 < count; q0 += kQueryBlock) {
    std::int64_t qn = std::min(kQueryBlock, count - q0);
    std::vector<float> qnorm(static_cast<std::size_t>(qn));
    for (std::int64_t q = 0; q < qn; ++q) {
      const std::uint8_t* row = queries.images.data() + (begin + q0 + q) * d;
      float s = 0;
      for (std::int64_t p = 0; p < d; ++p) {
        float v = row[p];
        qf[static_cast<std::size_t>(q * d + p)] = v;
        s += v * v;
      }
      qnorm[static_cast<std::size_t>(q)] = s;
    }
    std::vector<TopK> tops(static_cast<std::size_t>(qn), TopK(k));
    for (std::int64_t t0 = 0; t0 < n; t0 += kTrainChunk) {
      std::int64_t tn = std::min(kTrainChunk, n - t0);
      const std::uint8_t* src = train_.images.data() + t0 * d;
      for (std::int64_t i = 0; i < tn * d; ++i) tf[static_cast<std::size_t>(i)] = src[i];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(qn),
                  static_cast<blasint>(tn), static_cast<blasint>(d), 1.0f, qf.data(),
                  static_cast<blasint>(d), tf.data(), static_cast<blasint>(d), 0.0f, dots.data(),
                  static_cast<blasint>(tn));
      workers_->run([&](int part, int parts) {
        auto [a0, a1] = part_range(qn, part, parts);
        for (std::int64_t q = a0; q < a1; ++q) {
          TopK& top = tops[static_cast<std::size_t>(q)];
          const float* row = dots.data() + q * tn;
          float qq = qnorm[static_cast<std::size_t>(q)];
          for (std::int64_t t = 0; t < tn; ++t) {
            if (skipped(t0 + t)) continue;
            float dist = qq + train_norms_[static_cast<std::size_t>(t0 + t)] - 2 * row[t];
            top.offer(dist, t0 + t);
          }
        }
      });
    }
    for (std::int64_t q = 0; q < qn; ++q) store(q0 + q, tops[static_cast<std::size_t>(q)]);
  }
  return result;
}

std::vector<std::int64_t> KNearestNeighbor::predict(const Dataset& queries, std::int64_t begin,
                                                    std::int64_t count, std::int64_t k) const {
  std::vector<std::int64_t> nn = neighbours(queries, begin, count, k);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(k)), predicted;
  predicted.reserve(static_cast<std::size_t>(count));
  for (std::int64_t q = 0; q < count; ++q) {
    for (std::int64_t j = 0; j < k; ++j) {
      labels[static_cast<std::size_t>(j)] =
          train_.labels[static_cast<std::size_t>(nn[static_cast<std::size_t>(q * k + j)])];
    }
    predicted.push_back(majority_vote(labels.data(), k, train_.classes));
  }
  return predicted;
}

double CrossValidationResult::mean(std::size_t k_index) const {
  const auto& acc = fold_accuracy.at(k_index);
  double s = 0;
  for (double a : acc) s += a;
  return acc.empty() ? 0 : s / static_cast<double>(acc.size());
}

double CrossValidationResult::stddev(std::size_t k_index) const {
  const auto& acc = fold_accuracy.at(k_index);
  double m = mean(k_index), s = 0;
  for (double a : acc) s += (a - m) * (a - m);
  return acc.empty() ? 0 : std::sqrt(s / static_cast<double>(acc.size()));
}

std::int64_t CrossValidationResult::best_k() const {
  std::size_t best = 0;
  for (std::size_t i = 1; i < ks.size(); ++i) {
    if (mean(i) > mean(best) || (mean(i) == mean(best) && ks[i] < ks[best])) best = i;
  }
  return ks.at(best);
}

std::int64_t cv_training_rows(std::int64_t size, int folds) {
  if (folds < 1 || size < 0) return 0;
  return size - (size + folds - 1) / folds;
}

CrossValidationResult cross_validate_knn(const Dataset& train, std::int64_t size,
                                         const std::vector<std::int64_t>& ks, int folds,
                                         Distance distance, int threads) {
  check_dataset(train, "training");
  if (folds < 2) throw ValueError("knn: cross-validation needs at least 2 folds");
  if (size < folds || size > train.size) {
    throw ValueError("knn: cross-validation size " + std::to_string(size) + " must be in [folds, " +
                     std::to_string(train.size) + "]");
  }
  if (ks.empty()) throw ValueError("knn: no k to cross-validate");
  std::int64_t max_k = *std::max_element(ks.begin(), ks.end());
  std::int64_t min_k = *std::min_element(ks.begin(), ks.end());
  // Each fold is searched among the others: the largest fold leaves the fewest rows.
  const std::int64_t candidates = cv_training_rows(size, folds);
  if (min_k < 1) throw ValueError("knn: k = " + std::to_string(min_k) + " must be at least 1");
  if (max_k > candidates) {
    throw ValueError("knn: k = " + std::to_string(max_k) + " is more than the " +
                     std::to_string(candidates) + " rows a fold is searched among (" +
                     std::to_string(size) + " rows in " + std::to_string(folds) + " folds)");
  }
  // The candidates are the first `size` rows: a view of the training set cut there.
  Dataset pool;
  pool.size = size;
  pool.features = train.features;
  pool.classes = train.classes;
  pool.images.assign(train.images.begin(), train.images.begin() + size * train.features);
  pool.labels.assign(train.labels.begin(), train.labels.begin() + size);
  KNearestNeighbor knn(pool, distance, threads);

  CrossValidationResult result;
  result.ks = ks;
  result.fold_accuracy.assign(ks.size(), {});
  std::vector<std::int64_t> labels(static_cast<std::size_t>(max_k));
  for (int f = 0; f < folds; ++f) {
    std::int64_t f0 = size * f / folds, f1 = size * (f + 1) / folds;
    // Neighbours once, up to the largest k; every smaller k uses a prefix.
    std::vector<std::int64_t> nn = knn.neighbours(pool, f0, f1 - f0, max_k, f0, f1);
    for (std::size_t ki = 0; ki < ks.size(); ++ki) {
      std::int64_t k = ks[ki], correct = 0;
      for (std::int64_t q = 0; q < f1 - f0; ++q) {
        for (std::int64_t j = 0; j < k; ++j) {
          labels[static_cast<std::size_t>(j)] =
              pool.labels[static_cast<std::size_t>(nn[static_cast<std::size_t>(q * max_k + j)])];
        }
        correct += majority_vote(labels.data(), k, pool.classes) ==
                   pool.labels[static_cast<std::size_t>(f0 + q)];
      }
      result.fold_accuracy[ki].push_back(static_cast<double>(correct) /
                                         static_cast<double>(f1 - f0));
    }
  }
  return result;
}

}  // namespace nabla
