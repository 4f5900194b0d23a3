// Sentence-level tag scores: the forward recursion, its gradient and Viterbi against the
// brute-force sum (and max) over every tag path of small sentences, in float64.
#include "nabla/ops/crf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nabla/autograd/gradcheck.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using testing_util::error_of;

// Everything below computed from the definitions, path by path (K^n paths).
struct BruteForce {
  std::vector<double> log_z;       // per sentence
  std::vector<double> gold;        // s(gold path) per sentence
  std::vector<std::int64_t> best;  // the best path, token by token
};

BruteForce brute_force(const Tensor& e, const Tensor& a, const std::vector<std::int64_t>& tags,
                       const std::vector<std::int64_t>& lengths) {
  const std::int64_t k = e.size(1);
  auto E = [&](std::int64_t t, std::int64_t j) { return e.get(t * k + j); };
  auto A = [&](std::int64_t i, std::int64_t j) { return a.get(i * k + j); };
  auto score = [&](const std::int64_t* y, std::int64_t begin, std::int64_t n) {
    double s = A(k, y[0]) + A(k + 1, y[n - 1]);
    for (std::int64_t t = 0; t < n; ++t) s += E(begin + t, y[t]) + (t > 0 ? A(y[t - 1], y[t]) : 0);
    return s;
  };
  BruteForce out;
  std::int64_t begin = 0;
  for (std::int64_t n : lengths) {
    std::vector<std::int64_t> y(static_cast<std::size_t>(n), 0), best;
    double sum = 0, top = -std::numeric_limits<double>::infinity();
    for (;;) {
      const double s = score(y.data(), begin, n);
      sum += std::exp(s);
      if (s > top) {
        top = s;
        best = y;
      }
      std::int64_t t = 0;  // the next path, as a number in base K
      while (t < n && ++y[static_cast<std::size_t>(t)] == k) y[static_cast<std::size_t>(t++)] = 0;
      if (t == n) break;
    }
    out.log_z.push_back(std::log(sum));
    out.gold.push_back(score(tags.data() + begin, begin, n));
    out.best.insert(out.best.end(), best.begin(), best.end());
    begin += n;
  }
  return out;
}

struct Case {
  Tensor e, a;
  std::vector<std::int64_t> tags, lengths;
};

// Sentences of 1, 4 and 3 tokens, 3 tags, random scores.
Case small_case(std::uint64_t seed) {
  Rng rng(seed);
  Case c;
  c.lengths = {1, 4, 3};
  c.e = Tensor::randn({8, 3}, rng, 1.0, DType::f64);
  c.a = Tensor::randn({5, 3}, rng, 1.0, DType::f64);
  c.tags = {2, 0, 1, 1, 2, 1, 0, 0};
  return c;
}

TEST(Crf, ForwardRecursionIsTheSumOverAllPaths) {
  for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    const Case c = small_case(seed);
    const BruteForce b = brute_force(c.e, c.a, c.tags, c.lengths);
    const std::vector<double> log_z = crf_log_partition(c.e, c.a, c.lengths);
    const std::vector<double> gold = crf_path_scores(c.e, c.a, c.tags, c.lengths);
    ASSERT_EQ(log_z.size(), 3u);
    double mean = 0;
    for (std::size_t s = 0; s < 3; ++s) {
      EXPECT_NEAR(log_z[s], b.log_z[s], 1e-12);
      EXPECT_NEAR(gold[s], b.gold[s], 1e-12);
      EXPECT_LT(gold[s], log_z[s]);  // one path among others
      mean += (b.log_z[s] - b.gold[s]) / 3;
    }
    EXPECT_NEAR(crf_loss(c.e, c.a, c.tags, c.lengths), mean, 1e-12);
  }
}

TEST(Crf, GradientMatchesCentralDifferencesOfTheBruteForceLoss) {
  for (std::uint64_t seed : {4ULL, 5ULL}) {
    Case c = small_case(seed);
    Tensor de, da;
    crf_loss_gradient(c.e, c.a, c.tags, c.lengths, 2.0, de, da);
    ASSERT_EQ(de.shape(), c.e.shape());
    ASSERT_EQ(da.shape(), c.a.shape());
    auto loss = [&] {
      const BruteForce b = brute_force(c.e, c.a, c.tags, c.lengths);
      double total = 0;
      for (std::size_t s = 0; s < b.log_z.size(); ++s) total += b.log_z[s] - b.gold[s];
      return 2.0 * total / static_cast<double>(b.log_z.size());
    };
    const Tensor ne = numerical_gradient(loss, c.e, 1e-5);
    const Tensor na = numerical_gradient(loss, c.a, 1e-5);
    const GradCheckReport r = compare_gradients({"emissions", "transitions"}, {ne, na}, {de, da});
    EXPECT_LT(r.max_rel_error(), 1e-7) << "seed " << seed;
  }
}

TEST(Crf, EmissionGradientRowsSumToZero) {
  // Each token's marginals sum to 1 and the gold path has one tag there.
  const Case c = small_case(6);
  Tensor de, da;
  crf_loss_gradient(c.e, c.a, c.tags, c.lengths, 1.0, de, da);
  for (std::int64_t t = 0; t < 8; ++t) {
    EXPECT_NEAR(de.get(3 * t) + de.get(3 * t + 1) + de.get(3 * t + 2), 0.0, 1e-12);
  }
}

TEST(Crf, ViterbiFindsTheBestPath) {
  for (std::uint64_t seed : {7ULL, 8ULL, 9ULL, 10ULL}) {
    const Case c = small_case(seed);
    const BruteForce b = brute_force(c.e, c.a, c.tags, c.lengths);
    EXPECT_EQ(viterbi_decode(c.e, c.a, c.lengths), b.best) << "seed " << seed;
  }
}

TEST(Crf, ForbiddenTransitionsAreNeverDecoded) {
  // Tag 1 never follows tag 0, even where each token alone prefers it.
  Tensor e = Tensor::from({2, 2}, {5, 0, 0, 5}, DType::f64);
  Tensor a = Tensor::from({4, 2}, {0, -1e4, 0, 0, 0, 0, 0, 0}, DType::f64);
  EXPECT_EQ(viterbi_decode(e, a, {2}), (std::vector<std::int64_t>{0, 0}));
  EXPECT_EQ(viterbi_decode(e, a, {1, 1}), (std::vector<std::int64_t>{0, 1}));
}

TEST(Crf, Float32AgreesWithFloat64) {
  const Case c = small_case(11);
  const double l64 = crf_loss(c.e, c.a, c.tags, c.lengths);
  const double l32 = crf_loss(c.e.to(DType::f32), c.a.to(DType::f32), c.tags, c.lengths);
  EXPECT_NEAR(l32, l64, 1e-5);
  Tensor de, da;
  crf_loss_gradient(c.e.to(DType::f32), c.a.to(DType::f32), c.tags, c.lengths, 1.0, de, da);
  EXPECT_EQ(de.dtype(), DType::f32);
}

TEST(Crf, BadInputIsNamed) {
  const Case c = small_case(12);
  EXPECT_THAT(error_of<ShapeError>([&] {
                crf_loss(c.e, c.a, c.tags, {1, 4});
              }),
              HasSubstr("crf_loss: sentences of 5 tokens in all for emissions (8,3)"));
  EXPECT_THAT(error_of<ShapeError>([&] {
                crf_loss(c.e, Tensor({3, 3}, DType::f64), c.tags, c.lengths);
              }),
              HasSubstr("expected (tags + 2, tags) = (5,3)"));
  std::vector<std::int64_t> bad = c.tags;
  bad[3] = 3;
  EXPECT_THAT(error_of<ValueError>([&] { crf_loss(c.e, c.a, bad, c.lengths); }),
              HasSubstr("tag 3 at token 3 out of range [0, 3)"));
}

}  // namespace
}  // namespace nabla
