// nabla/knn.h — k-nearest-neighbour classification of pixel rows, with k chosen by
// k-fold cross-validation (the lecture's first classifier).
//
//   KNearestNeighbor knn(mnist.train, Distance::l2);
//   std::vector<std::int64_t> predicted = knn.predict(mnist.test, 0, 10000, /*k=*/3);
//
// Distances: L1 d1(a, b) = sum_p |a_p - b_p| (exact, on the uint8 pixels) and L2
// (squared Euclidean, through matrix products: |a|^2 + |b|^2 - 2 a.b in float32).
// Vote: the most frequent label among the k nearest; a tie goes to the tied class
// whose member is nearest (so k = 1 and a tie at k = 2 agree).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/data/mnist.h"

NABLA_API_BEGIN
namespace nabla {

class Workers;  // nabla/detail/workers.h

enum class Distance { l1, l2 };
Distance parse_distance(const std::string& name);  // "l1" or "l2"
const char* distance_name(Distance d);

// L1 distance of two pixel rows of length n.
std::int64_t l1_distance(const std::uint8_t* a, const std::uint8_t* b, std::int64_t n);

// Majority vote over labels listed nearest first; ties as documented above.
std::int64_t majority_vote(const std::int64_t* labels, std::int64_t k, std::int64_t classes);

class KNearestNeighbor {
 public:
  // Remembers the training rows (the "training" of k-NN). `threads` splits the L1 search.
  // Throws ValueError if the images and labels do not hold `size` rows, or a label is not
  // below `classes`.
  KNearestNeighbor(const Dataset& train, Distance distance, int threads = 2);
  KNearestNeighbor(KNearestNeighbor&&) noexcept;
  ~KNearestNeighbor();

  // Indices of the k nearest training rows of each query row [begin, begin + count) of
  // `queries`, nearest first (row-major, count x k). Training rows in
  // [skip_begin, skip_end) are not candidates (cross-validation holds out a fold).
  std::vector<std::int64_t> neighbours(const Dataset& queries, std::int64_t begin,
                                       std::int64_t count, std::int64_t k,
                                       std::int64_t skip_begin = 0,
                                       std::int64_t skip_end = 0) const;
  // Predicted labels of the query rows.
  std::vector<std::int64_t> predict(const Dataset& queries, std::int64_t begin, std::int64_t count,
                                    std::int64_t k) const;

 private:
  const Dataset& train_;
  Distance distance_;
  std::unique_ptr<Workers> workers_;
  std::vector<float> train_norms_;  // |b|^2 for L2
};

struct CrossValidationResult {
  std::vector<std::int64_t> ks;
  std::vector<std::vector<double>> fold_accuracy;  // [k index][fold]
  double mean(std::size_t k_index) const;
  double stddev(std::size_t k_index) const;
  // The k of the highest mean accuracy (the smaller k on ties).
  std::int64_t best_k() const;
};

// The fewest candidate rows a fold of cross-validation is searched among: size less the
// largest of the `folds` folds (ceil(size / folds) rows). The largest k it can try.
std::int64_t cv_training_rows(std::int64_t size, int folds);

// Splits the first `size` training rows into `folds` consecutive folds; each fold is
// classified by its k nearest neighbours among the other folds, for every k in `ks`.
// Throws ValueError, before any search, for a k outside [1, cv_training_rows(size, folds)].
CrossValidationResult cross_validate_knn(const Dataset& train, std::int64_t size,
                                         const std::vector<std::int64_t>& ks, int folds,
                                         Distance distance, int threads = 2);

}  // namespace nabla
NABLA_API_END
