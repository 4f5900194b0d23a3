#include "nabla/tasks/knn.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace nabla {
namespace {

// A small dataset with the given rows of pixels.
Dataset make_dataset(std::int64_t features, const std::vector<std::vector<int>>& rows,
                     const std::vector<int>& labels, std::int64_t classes = 3) {
  Dataset d;
  d.size = static_cast<std::int64_t>(rows.size());
  d.features = features;
  d.classes = classes;
  for (const auto& r : rows)
    for (int v : r) d.images.push_back(static_cast<std::uint8_t>(v));
  for (int l : labels) d.labels.push_back(static_cast<std::uint8_t>(l));
  return d;
}

TEST(Knn, LectureL1Example) {
  // 4x4 test and training images of the lecture: sum of |differences| = 456
  std::vector<std::uint8_t> test = {56, 32, 10,  18,  90, 23, 128, 133,
                                    24, 26, 178, 200, 2,  0,  255, 220};
  std::vector<std::uint8_t> train = {10, 20, 24,  17,  8, 10, 89,  100,
                                     12, 16, 178, 170, 4, 32, 233, 112};
  EXPECT_EQ(l1_distance(test.data(), train.data(), 16), 456);
  EXPECT_EQ(l1_distance(train.data(), test.data(), 16), 456);
}

TEST(Knn, L1OnLongRowsMatchesPlainSum) {
  std::vector<std::uint8_t> a(784), b(784);
  std::int64_t expected = 0;
  for (int i = 0; i < 784; ++i) {
    a[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 37) % 256);
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 101 + 7) % 256);
    expected += std::abs(int{a[static_cast<std::size_t>(i)]} - int{b[static_cast<std::size_t>(i)]});
  }
  EXPECT_EQ(l1_distance(a.data(), b.data(), 784), expected);
}

TEST(Knn, MajorityVoteAndTieRule) {
  std::vector<std::int64_t> labels = {2, 1, 1, 2, 0};
  EXPECT_EQ(majority_vote(labels.data(), 1, 3), 2);
  EXPECT_EQ(majority_vote(labels.data(), 3, 3), 1);  // 1 twice
  // k = 4: 2 and 1 tie with two votes each; 2 has the nearest member
  EXPECT_EQ(majority_vote(labels.data(), 4, 3), 2);
  EXPECT_EQ(majority_vote(labels.data(), 2, 3), 2);
}

TEST(Knn, NeighboursAreNearestFirstForBothDistances) {
  Dataset train = make_dataset(2, {{0, 0}, {10, 10}, {3, 4}, {100, 100}, {1, 1}}, {0, 1, 0, 2, 0});
  Dataset query = make_dataset(2, {{2, 2}, {90, 95}}, {0, 2});
  for (Distance d : {Distance::l1, Distance::l2}) {
    KNearestNeighbor knn(train, d, 2);
    std::vector<std::int64_t> nn = knn.neighbours(query, 0, 2, 3);
    // (2,2): L1 to (1,1)=2, (3,4)=3, (0,0)=4; L2: 2, 5, 8
    EXPECT_EQ(nn[0], 4) << distance_name(d);
    EXPECT_EQ(nn[1], 2) << distance_name(d);
    EXPECT_EQ(nn[2], 0) << distance_name(d);
    EXPECT_EQ(nn[3], 3) << distance_name(d);
    EXPECT_EQ(knn.predict(query, 0, 2, 1), (std::vector<std::int64_t>{0, 2}));
  }
}

TEST(Knn, L1AndL2CanDisagree) {
  // query (0,0): A = (3,3) has L1 6, L2 18; B = (5,0) has L1 5, L2 25
  Dataset train = make_dataset(2, {{3, 3}, {5, 0}}, {0, 1});
  Dataset query = make_dataset(2, {{0, 0}}, {0});
  EXPECT_EQ(KNearestNeighbor(train, Distance::l1).predict(query, 0, 1, 1)[0], 1);
  EXPECT_EQ(KNearestNeighbor(train, Distance::l2).predict(query, 0, 1, 1)[0], 0);
}

TEST(Knn, SkippedRowsAreNotCandidates) {
  Dataset train = make_dataset(1, {{0}, {1}, {5}, {9}}, {0, 0, 1, 2});
  KNearestNeighbor knn(train, Distance::l1, 1);
  std::vector<std::int64_t> nn = knn.neighbours(train, 0, 1, 1, 0, 2);  // hold out rows 0, 1
  EXPECT_EQ(nn[0], 2);
}

TEST(Knn, CrossValidationOnSeparableClusters) {
  // Three well separated clusters, interleaved so every fold holds each class.
  std::vector<std::vector<int>> rows;
  std::vector<int> labels;
  for (int i = 0; i < 30; ++i) {
    int c = i % 3;
    rows.push_back({c * 80 + i % 7, c * 80 + (i * 3) % 5});
    labels.push_back(c);
  }
  Dataset train = make_dataset(2, rows, labels);
  CrossValidationResult cv = cross_validate_knn(train, 30, {1, 3, 5}, 5, Distance::l2, 2);
  ASSERT_EQ(cv.fold_accuracy.size(), 3u);
  EXPECT_EQ(cv.fold_accuracy[0].size(), 5u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(cv.mean(i), 1.0);
    EXPECT_DOUBLE_EQ(cv.stddev(i), 0.0);
  }
  EXPECT_EQ(cv.best_k(), 1);  // smallest k among equals
}

TEST(Knn, CrossValidationPrefersLargerKWithLabelNoise) {
  // Class = which side of 128 a pixel value lies; 15% of labels flipped at random.
  // k = 1 copies a noisy neighbour's label; k = 9 votes the noise away.
  Rng rng(3);
  std::vector<std::vector<int>> rows;
  std::vector<int> labels;
  for (int i = 0; i < 400; ++i) {
    int v = static_cast<int>(rng.below(256));
    int label = v < 128 ? 0 : 1;
    if (rng.uniform() < 0.15) label = 1 - label;
    rows.push_back({v});
    labels.push_back(label);
  }
  Dataset train = make_dataset(1, rows, labels, 2);
  CrossValidationResult cv = cross_validate_knn(train, 400, {1, 9}, 5, Distance::l1, 2);
  EXPECT_GT(cv.mean(1), cv.mean(0) + 0.04);
  EXPECT_GT(cv.mean(1), 0.8);
  EXPECT_EQ(cv.best_k(), 9);
}

TEST(Knn, BadArguments) {
  Dataset train = make_dataset(2, {{0, 0}, {1, 1}}, {0, 1});
  Dataset other = make_dataset(3, {{0, 0, 0}}, {0});
  KNearestNeighbor knn(train, Distance::l2);
  EXPECT_THROW(knn.neighbours(other, 0, 1, 1), ShapeError);
  EXPECT_THROW(knn.neighbours(train, 0, 1, 3), ValueError);
  EXPECT_THROW(knn.neighbours(train, 1, 2, 1), ValueError);
  EXPECT_THROW(parse_distance("l3"), ValueError);
  EXPECT_THROW(cross_validate_knn(train, 2, {1}, 1, Distance::l1), ValueError);
}

// A training set whose size claims more rows than its buffers hold (as `nabla knn` once
// made by resizing MNIST up to --train-size), or a label that is not below its classes
// (a vote for it would be counted past the end of the tally), is refused.
TEST(Knn, TrainingSetMustHoldItsRowsAndLabels) {
  Dataset train = make_dataset(2, {{0, 0}, {1, 1}}, {0, 1});
  Dataset longer = train;
  longer.size = 3;
  EXPECT_EQ(testing_util::error_of<ValueError>([&] { KNearestNeighbor(longer, Distance::l2); }),
            "knn: the training set claims 3 rows of 2 features in 3 classes, but holds 4 pixels "
            "and 2 labels");
  EXPECT_THROW(cross_validate_knn(longer, 2, {1}, 2, Distance::l1), ValueError);
  Dataset query = longer;
  KNearestNeighbor knn(train, Distance::l1);
  EXPECT_THROW(knn.neighbours(query, 0, 3, 1), ValueError);

  Dataset bad_label = make_dataset(2, {{0, 0}, {1, 1}}, {0, 12});
  EXPECT_EQ(testing_util::error_of<ValueError>([&] { KNearestNeighbor(bad_label, Distance::l1); }),
            "knn: training row 1 has label 12, not below its 3 classes");
}

// Cross-validation searches each fold among the other folds: a k above what the largest
// fold leaves is refused at once, before any search, naming what limits it.
TEST(Knn, CrossValidationRefusesAKAboveWhatAFoldLeaves) {
  std::vector<std::vector<int>> rows;
  std::vector<int> labels;
  for (int i = 0; i < 11; ++i) {
    rows.push_back({i});
    labels.push_back(i % 3);
  }
  Dataset train = make_dataset(1, rows, labels);
  // 11 rows in 5 folds: the largest fold has 3 rows, so a fold has 8 others at least.
  EXPECT_EQ(cv_training_rows(11, 5), 8);
  EXPECT_EQ(cv_training_rows(10, 5), 8);
  EXPECT_EQ(cv_training_rows(600, 5), 480);
  CrossValidationResult cv = cross_validate_knn(train, 11, {1, 8}, 5, Distance::l1, 1);
  EXPECT_EQ(cv.fold_accuracy[1].size(), 5u);
  EXPECT_EQ(testing_util::error_of<ValueError>([&] {
              cross_validate_knn(train, 11, {1, 9}, 5, Distance::l1, 1);
            }),
            "knn: k = 9 is more than the 8 rows a fold is searched among (11 rows in 5 folds)");
  EXPECT_EQ(testing_util::error_of<ValueError>([&] {
              cross_validate_knn(train, 11, {0, 3}, 5, Distance::l1, 1);
            }),
            "knn: k = 0 must be at least 1");
}

}  // namespace
}  // namespace nabla
