// Batches made ahead must be exactly the batches the loop would have drawn, made ready as
// the first layer reads them, through every turn of the ring.
#include "nabla/train/prefetch.h"

#include <gtest/gtest.h>

#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

struct Data {
  SparsePixels images;
  ByteBuffer labels;
};

// `rows` images of 12 pixels, about 70% zeros, labels 0-9.
Data random_data(std::int64_t rows, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> p(static_cast<std::size_t>(rows * 12));
  for (auto& v : p) v = rng.uniform() < 0.3 ? static_cast<std::uint8_t>(1 + rng.below(255)) : 0;
  Data d{SparsePixels(p.data(), rows, 12, 1.0f / 255), ByteBuffer(static_cast<std::size_t>(rows))};
  for (auto& l : d.labels) l = static_cast<std::uint8_t>(rng.below(10));
  return d;
}

class Prefetch : public ::testing::TestWithParam<int> {};

TEST_P(Prefetch, MakesTheBatchesTheLoopWouldDrawInOrder) {
  const int depth = GetParam();
  Data d = random_data(40, 3);
  for (Sampling mode : {Sampling::with_replacement, Sampling::shuffled_epochs}) {
    BatchSampler sampler(40, 7, mode);
    Rng rng(11);
    const std::int64_t batches = 5 * depth + 3;  // round the ring several times
    BatchPrefetcher ahead(d.images, d.labels, sampler, rng, batches, depth);
    std::vector<std::int64_t> drawn;
    for (std::int64_t k = 0; k < batches; ++k) {
      sampler.next(rng, drawn);
      const PreparedBatch& b = ahead.next();
      ASSERT_EQ(b.drawn, drawn) << "batch " << k;
      ASSERT_EQ(b.batch.size(),
                static_cast<std::int64_t>(drawn.size()));  // (short at an epoch's end)
      ASSERT_EQ(b.batch.pixels, &b.pixels);
      ASSERT_EQ(b.batch.columns, &b.columns);
      // the copied rows hold the drawn images' pixels, in order
      Tensor made = b.batch.to_dense();
      Tensor direct = SparseBatch{&d.images, drawn}.to_dense();
      for (std::int64_t i = 0; i < made.numel(); ++i) ASSERT_EQ(made.get(i), direct.get(i));
      // the columns are those of the batch
      SparseColumns expected;
      expected.assign(b.batch);
      ASSERT_EQ(b.columns.rows(), expected.rows());
      ASSERT_EQ(b.columns.nonzeros(), expected.nonzeros());
      for (std::int64_t c = 0; c <= expected.cols(); ++c) {
        ASSERT_EQ(b.columns.begin(c), expected.begin(c));
      }
      for (std::int64_t e = 0; e < expected.nonzeros(); ++e) {
        ASSERT_EQ(b.columns.entries()[e], expected.entries()[e]);
      }
      for (std::size_t i = 0; i < drawn.size(); ++i) {
        ASSERT_EQ(b.labels[i], d.labels[static_cast<std::size_t>(drawn[i])]);
      }
    }
    // none past the count asked for
    EXPECT_THROW(ahead.next(), ValueError);
  }
}

INSTANTIATE_TEST_SUITE_P(Depths, Prefetch, ::testing::Values(2, 3, 16));

TEST(Prefetch, StopsWhetherTheRingIsFullOrNot) {
  Data d = random_data(30, 4);
  {
    BatchPrefetcher idle(d.images, d.labels, BatchSampler(30, 5, Sampling::with_replacement),
                         Rng(1), 1000, 4);  // fills its ring and sleeps
  }
  {
    BatchPrefetcher taken(d.images, d.labels, BatchSampler(30, 5, Sampling::with_replacement),
                          Rng(1), 1000, 4);
    for (int k = 0; k < 10; ++k) EXPECT_EQ(taken.next().batch.size(), 5);
  }
  SUCCEED();  // (a hang here would time the test out)
}

TEST(Prefetch, ErrorsReachTheTrainingThread) {
  Data d = random_data(30, 5);
  EXPECT_THROW(BatchPrefetcher(d.images, d.labels, BatchSampler(30, 5, Sampling::with_replacement),
                               Rng(1), 10, 1),
               ValueError);  // depth
  ByteBuffer fewer(29);
  EXPECT_THROW(
      BatchPrefetcher(d.images, fewer, BatchSampler(30, 5, Sampling::with_replacement), Rng(1), 10),
      ValueError);  // a label per image
  // a sampler over more images than there are: the thread's ValueError comes out of next()
  BatchPrefetcher wrong(d.images, d.labels, BatchSampler(3000, 50, Sampling::with_replacement),
                        Rng(1), 10, 2);
  try {
    for (int k = 0; k < 10; ++k) wrong.next();
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("outside [0, 30)"), std::string::npos) << e.what();
  }
}

// Trainer with the prefetcher (2 threads) and without: the same parameters, bit for bit,
// also across a checkpoint taken and resumed in the middle.
TEST(Prefetch, TrainerIsTheSameWithAndWithoutIt) {
  Data d = random_data(300, 6);
  SparseMnist data{d.images, d.images, d.labels, d.labels, 10};
  TrainConfig config;
  config.model.inputs = 12;
  config.model.hidden = {8};
  config.iters = 40;
  config.batch = 10;
  auto train = [&](int threads, std::int64_t iters) {
    Trainer t(config, data);
    t.set_threads(threads);
    for (std::int64_t k = 0; k < iters; ++k) t.step();
    return t;
  };
  Trainer one = train(1, 40);
  Trainer two = train(2, 40);
  auto same = [](Trainer& a, Trainer& b) {
    std::vector<Var> pa = a.model().parameters(), pb = b.model().parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) {
      for (std::int64_t k = 0; k < pa[i].value().numel(); ++k) {
        if (pa[i].value().get(k) != pb[i].value().get(k)) return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(same(one, two));
  // stopped at 17 (the prefetcher had drawn ahead), saved, resumed with it: the same end
  testing_util::ScopedTempDir dir("prefetch");
  const std::string path = dir / "prefetch_resume.safetensors";
  {
    Trainer half = train(2, 17);
    half.save(path);
  }
  Trainer resumed = Trainer::resume(path, data);
  resumed.set_threads(2);
  while (!resumed.done()) resumed.step();
  EXPECT_EQ(resumed.iteration(), 40);
  EXPECT_TRUE(same(one, resumed));
  // steps past the planned count go on without it
  two.step();
  EXPECT_EQ(two.iteration(), 41);
}

}  // namespace
}  // namespace nabla
