// Data parallelism in one process (TrainConfig::shards): the fixed order of the sum, the
// same bits every run and after a resume, and agreement with one slice to rounding. The
// same bits under mpirun are tests/mpi/mpi_cli_test.cc's.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "nabla/train/communicator.h"
#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing_util::error_of;

TEST(SumInRankOrder, AddsRankByRankInFloat) {
  // ((1e8 + 1) - 1e8) is 0 in float32; 1e8 + (1 - 1e8) would be 0 too, (1e8 - 1e8) + 1 is 1.
  const float a[] = {1e8f, 2.0f}, b[] = {1.0f, 3.0f}, c[] = {-1e8f, 4.0f};
  const float* parts[] = {a, b, c};
  float out[2];
  sum_in_rank_order(parts, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 9.0f);
  // In place, two at a time: the same as all three at once.
  float acc[] = {a[0], a[1]};
  for (const float* p : {b, c}) {
    const float* two[] = {acc, p};
    sum_in_rank_order(two, acc);
  }
  EXPECT_EQ(acc[0], out[0]);
  EXPECT_EQ(acc[1], out[1]);
}

// Rows of 16 features (4 x 4 images), 3 classes, labelled by which third of the row is
// brightest.
DenseData small_rows(std::int64_t n) {
  DenseData d;
  d.classes = 3;
  Rng rng(7);
  d.train_x = Tensor::uniform({n, 16}, rng, 0, 1);
  d.test_x = Tensor::uniform({n / 4, 16}, rng, 0, 1);
  auto label = [](const Tensor& x, std::int64_t i) {
    const float* r = x.data<float>() + i * 16;
    float s[3] = {r[0] + r[1] + r[2] + r[3] + r[4], r[5] + r[6] + r[7] + r[8] + r[9],
                  r[10] + r[11] + r[12] + r[13] + r[14]};
    return static_cast<std::int64_t>(std::max_element(s, s + 3) - s);
  };
  for (std::int64_t i = 0; i < n; ++i) d.train_labels.push_back(label(d.train_x, i));
  for (std::int64_t i = 0; i < n / 4; ++i) d.test_labels.push_back(label(d.test_x, i));
  return d;
}

// A small CNN with a batch norm and a dropout, on the rows as 1 x 4 x 4 images.
TrainConfig cnn_config(std::int64_t shards) {
  TrainConfig c;
  c.model = model_from_arch("input:1x4x4 conv:3x3 batchnorm relu dropout:0.3 affine:3", {16}, 3);
  c.batch = 20;
  c.optimizer = "adam";
  c.lr = 0.01;
  c.reg = 0.001;
  c.iters = 6;
  c.shards = shards;
  return c;
}

std::uint64_t trained_hash(const TrainConfig& c) {
  Trainer t(c, small_rows(120));
  while (!t.done()) t.step();
  return t.state_hash();
}

TEST(Shards, SameBitsEveryRunAndPerShardCount) {
  const std::uint64_t two = trained_hash(cnn_config(2));
  EXPECT_EQ(trained_hash(cnn_config(2)), two);
  EXPECT_NE(trained_hash(cnn_config(3)), two);  // another order of addition, other bits
}

TEST(Shards, AgreeWithOneSliceToRounding) {
  // A linear model has no batch statistics and no dropout: its sliced gradient is the
  // whole batch's up to rounding.
  TrainConfig c;
  c.model = model_from_arch("affine:3", {16}, 3);
  c.batch = 30;
  c.lr = 0.5;
  c.iters = 10;
  Trainer one(c, small_rows(120));
  c.shards = 3;
  Trainer three(c, small_rows(120));
  double loss_one = 0, loss_three = 0;
  while (!one.done()) {
    loss_one = one.step();
    loss_three = three.step();
  }
  EXPECT_NEAR(loss_three, loss_one, 1e-5);
  const Tensor& a = one.model().parameter("W1").value();
  const Tensor& b = three.model().parameter("W1").value();
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    EXPECT_NEAR(b.data<float>()[i], a.data<float>()[i], 1e-5) << i;
  }
  EXPECT_NE(one.state_hash(), three.state_hash());  // (rounding: not the same bits)
}

TEST(Shards, ResumeGivesTheSameBits) {
  testing_util::ScopedTempDir dir;
  const std::string path = (dir.path() / "half.safetensors").string();
  TrainConfig c = cnn_config(3);
  Trainer half(c, small_rows(120));
  for (int i = 0; i < 3; ++i) half.step();
  half.save(path);
  Trainer resumed = Trainer::resume(path, small_rows(120));
  EXPECT_EQ(resumed.config().shards, 3);
  while (!resumed.done()) resumed.step();
  EXPECT_EQ(resumed.state_hash(), trained_hash(c));
}

TEST(Shards, RefusedBeyondTheBatchAndForAnotherRankCount) {
  TrainConfig c = cnn_config(21);
  EXPECT_EQ(error_of<ValueError>([&] { Trainer t(c, small_rows(120)); }),
            "shards 21 must be in [1, 20] (the batch size): each slice of a batch needs an "
            "example");
  // A communicator of 2 ranks for a batch in 3 slices.
  class TwoRanks : public Communicator {
   public:
    int rank() const override { return 0; }
    int size() const override { return 2; }
    std::string describe() const override { return "two"; }
    void sum(std::span<float>) override {}
    std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte>) override {
      return {};
    }
    void broadcast(std::span<std::byte>, int) override {}
    void barrier() override {}
    [[noreturn]] void abort(int) override { std::abort(); }
    Traffic traffic() const override { return {}; }
  };
  Trainer t(cnn_config(3), small_rows(120));
  EXPECT_EQ(error_of<ValueError>([&] { t.set_communicator(std::make_shared<TwoRanks>()); }),
            "the batch is cut into 3 slices (shards), but 2 ranks share it: each rank computes "
            "one slice, so shards must be 2");
}

TEST(Shards, ConfigKeepsThemAndOldFilesHaveOne) {
  TrainConfig c = cnn_config(3);
  EXPECT_EQ(TrainConfig::from_json(c.to_json()).shards, 3);
  c.shards = 1;
  std::string json = c.to_json();
  const std::string field = "\"shards\":1,";
  ASSERT_NE(json.find(field), std::string::npos) << json;
  json.erase(json.find(field), field.size());
  EXPECT_EQ(TrainConfig::from_json(json).shards, 1);
}

}  // namespace
}  // namespace nabla
