// Augmentation (nabla/train/augment.h): the shifted pixels exactly, the shifts drawn, and
// in the Trainer: labels kept, runs reproducible from the seed and resumed exactly, and
// evaluations of the images as they are.
#include "nabla/train/augment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

TEST(ShiftImages, MovesEachImageByItsShiftWithZerosShiftedIn) {
  // two images of 1 channel, 3 x 4: pixel (y, x) = 10 y + x + 1
  std::vector<double> v;
  for (int i = 0; i < 2; ++i) {
    for (int y = 0; y < 3; ++y) {
      for (int x = 0; x < 4; ++x) v.push_back(10 * y + x + 1 + 100 * i);
    }
  }
  const Tensor images = Tensor::from({2, 1, 3, 4}, v, DType::f32);
  Tensor out;
  // the first down 1 and left 1; the second up 2 and right 3
  shift_images(images, {{1, -1}, {-2, 3}}, out);
  ASSERT_EQ(out.shape(), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(out.to_vector(), (std::vector<double>{0,  0,  0,  0,    //
                                                  2,  3,  4,  0,    //
                                                  12, 13, 14, 0,    //
                                                  0,  0,  0,  121,  //
                                                  0,  0,  0,  0,    //
                                                  0,  0,  0,  0}));
  // no shift: the same images; a shift past the edge: all zeros
  shift_images(images, {{0, 0}, {0, 0}}, out);
  EXPECT_EQ(out.to_vector(), images.to_vector());
  shift_images(images, {{3, 0}, {0, -4}}, out);
  EXPECT_EQ(out.to_vector(), std::vector<double>(24, 0.0));
}

TEST(ShiftImages, ChannelsMoveTogether) {
  Rng rng(3);
  const Tensor images = Tensor::uniform({1, 3, 5, 5}, rng, 0, 1, DType::f32);
  Tensor out;
  shift_images(images, {{-1, 2}}, out);
  for (std::int64_t c = 0; c < 3; ++c) {
    for (std::int64_t y = 0; y < 5; ++y) {
      for (std::int64_t x = 0; x < 5; ++x) {
        const std::int64_t fy = y + 1, fx = x - 2;
        const double want = fy < 5 && fx >= 0 ? images.get(((c * 5) + fy) * 5 + fx) : 0.0;
        EXPECT_EQ(out.get((c * 5 + y) * 5 + x), want) << c << " " << y << " " << x;
      }
    }
  }
}

TEST(ShiftImages, ErrorsNameTheShapes) {
  Tensor out;
  EXPECT_THAT(testing_util::error_of<ShapeError>([&] {
                shift_images(Tensor({2, 784}, DType::f32), {{0, 0}, {0, 0}}, out);
              }),
              HasSubstr("shift_images: images float32 (2,784), expected float32 (B, C, H, W)"));
  EXPECT_THAT(testing_util::error_of<ShapeError>([&] {
                shift_images(Tensor({2, 1, 4, 4}, DType::f32), {{0, 0}}, out);
              }),
              HasSubstr("1 shifts for a batch of 2 images"));
}

// Random uint8 images (rows of C*H*W pixels), about half of them zero, as sparse rows.
SparsePixels random_pixels(std::int64_t rows, std::int64_t cols, Rng& rng) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(rows * cols));
  for (std::uint8_t& p : v)
    p = rng.below(2) == 0 ? 0 : static_cast<std::uint8_t>(1 + rng.below(255));
  return SparsePixels(v.data(), rows, cols, 1.0f / 255);
}

TEST(ShiftImages, SparseRowsMoveAsTheirDenseImages) {
  // Rows picked at random (some twice), shifts up to past the edges: densified, the moved
  // rows are exactly the dense images moved.
  Rng rng(11);
  for (const Shape& image : {Shape{1, 28, 28}, Shape{2, 5, 7}, Shape{3, 4, 4}}) {
    const std::int64_t cols = image[0] * image[1] * image[2];
    const SparsePixels pixels = random_pixels(40, cols, rng);
    SparseBatch batch{&pixels, {}};
    std::vector<PixelShift> shifts;
    for (int i = 0; i < 60; ++i) {
      batch.rows.push_back(rng.below(40));
      shifts.push_back({rng.below(17) - 8, rng.below(17) - 8});
    }
    SparsePixels moved;
    shift_images(batch, image, shifts, moved);
    ASSERT_EQ(moved.rows(), 60);
    Shape images{60};
    images.insert(images.end(), image.begin(), image.end());
    Tensor want;
    shift_images(batch.to_dense().reshape(images), shifts, want);
    std::vector<std::int64_t> all(60);
    std::iota(all.begin(), all.end(), 0);
    const Tensor got = SparseBatch{&moved, all}.to_dense();
    EXPECT_TRUE(testing_util::same_bits(got, std::move(want).reshape({60, cols})))
        << shape_str(image);
    EXPECT_LT(moved.nonzeros(), pixels.nonzeros() * 60 / 40);  // (some fell off the edges)
  }
}

TEST(ShiftImages, SparseRowsErrorsNameTheShapes) {
  Rng rng(2);
  const SparsePixels pixels = random_pixels(3, 16, rng);
  SparsePixels out;
  EXPECT_THAT(testing_util::error_of<ShapeError>([&] {
                shift_images(SparseBatch{&pixels, {0, 1}}, {1, 4, 5}, {{0, 0}, {0, 0}}, out);
              }),
              HasSubstr("shift_images: images (1,4,5) in rows of 16 pixels, expected (C, H, W)"));
  EXPECT_THAT(testing_util::error_of<ShapeError>([&] {
                shift_images(SparseBatch{&pixels, {0, 1}}, {1, 4, 4}, {{0, 0}}, out);
              }),
              HasSubstr("1 shifts for a batch of 2 rows"));
}

TEST(Augmentation, ParsesAndDrawsShiftsInRange) {
  EXPECT_FALSE(parse_augmentation("").any());
  EXPECT_FALSE(parse_augmentation("none").any());
  const Augmentation a = parse_augmentation("shift:2");
  EXPECT_EQ(a.max_shift, 2);
  EXPECT_EQ(a.text(), "shift:2");
  for (const char* bad : {"shift", "shift:0", "shift:9", "shift:2x", "flip", "shift:-1"}) {
    EXPECT_THROW(parse_augmentation(bad), ValueError) << bad;
  }
  EXPECT_THAT(testing_util::error_of<ValueError>([] { parse_augmentation("flip"); }),
              HasSubstr("'flip' is not one nabla knows; the forms are none and shift:N"));
  // every shift in [-2, 2] x [-2, 2] comes, about as often; the same seed, the same shifts
  Rng rng(5), again(5);
  const std::vector<PixelShift> shifts = a.draw(5000, rng);
  EXPECT_EQ(a.draw(5000, again), shifts);
  std::map<std::pair<std::int64_t, std::int64_t>, int> seen;
  for (const PixelShift& s : shifts) ++seen[{s.dy, s.dx}];
  EXPECT_EQ(seen.size(), 25u);
  for (const auto& [shift, n] : seen) {
    EXPECT_GT(n, 5000 / 25 / 2) << shift.first << "," << shift.second;
    EXPECT_LT(n, 5000 / 25 * 2) << shift.first << "," << shift.second;
  }
}

// 8 x 8 images of 3 classes: a bright 3 x 3 square in a corner of the class's, noise elsewhere.
DenseData corner_images(std::int64_t n, std::uint64_t seed) {
  DenseData d;
  d.classes = 3;
  Rng rng(seed);
  auto make = [&](std::int64_t count, Tensor& images, std::vector<std::int64_t>& labels) {
    std::vector<double> v;
    for (std::int64_t i = 0; i < count; ++i) {
      const std::int64_t c = i % 3;
      labels.push_back(c);
      const std::int64_t y0 = c == 1 ? 5 : 0, x0 = c == 2 ? 5 : 0;
      for (std::int64_t y = 0; y < 8; ++y) {
        for (std::int64_t x = 0; x < 8; ++x) {
          const bool in = y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3;
          v.push_back(in ? 1.0 : 0.1 * rng.uniform());
        }
      }
    }
    images = Tensor::from({count, 64}, v, DType::f32);
  };
  make(n, d.train_x, d.train_labels);
  make(30, d.test_x, d.test_labels);
  return d;
}

TrainConfig cnn_config(const std::string& augment) {
  TrainConfig c;
  c.model = model_from_arch("conv:4x3 relu maxpool:2 affine:3", {1, 8, 8}, 3);
  c.batch = 10;
  c.iters = 12;
  c.optimizer = "adam";
  c.lr = 0.01;
  c.augment = augment;
  return c;
}

std::vector<std::vector<double>> parameters_of(Trainer& t) {
  std::vector<std::vector<double>> out;
  for (const Var& p : t.model().parameters()) out.push_back(p.value().to_vector());
  return out;
}

class AugmentedTraining : public testing_util::TempDirTest {};

TEST_F(AugmentedTraining, ReproducibleResumedExactlyAndNotForEvaluations) {
  Trainer a(cnn_config("shift:2"), corner_images(60, 1));
  Trainer b(cnn_config("shift:2"), corner_images(60, 1));
  Trainer plain(cnn_config(""), corner_images(60, 1));
  for (int i = 0; i < 12; ++i) {
    a.step();
    b.step();
    plain.step();
  }
  EXPECT_EQ(parameters_of(a), parameters_of(b));      // the same seed, the same bits
  EXPECT_NE(parameters_of(a), parameters_of(plain));  // the shifts changed the training

  // stopped at 5, saved, resumed: the same shifts afterwards
  Trainer first(cnn_config("shift:2"), corner_images(60, 1));
  for (int i = 0; i < 5; ++i) first.step();
  first.save(path("at5"));
  Trainer resumed = Trainer::resume(path("at5"), corner_images(60, 1));
  EXPECT_EQ(resumed.config().augment, "shift:2");
  for (int i = 0; i < 7; ++i) resumed.step();
  EXPECT_EQ(parameters_of(resumed), parameters_of(a));

  // an evaluation sees the test images unmoved: the accuracy of the model on them
  const DenseData d = corner_images(60, 1);
  const Evaluation e = a.evaluate();
  EXPECT_EQ(e.test_acc, evaluate_accuracy(a.model(), d.test_x, d.test_labels, {1, 8, 8}, 200));
}

TEST_F(AugmentedTraining, BatchesKeepTheirLabels) {
  // On blank images a shift changes no pixel: a run augmented and a plain one then see
  // the same batches, so their losses agree step for step only if the augmented batches
  // keep their rows' labels (and the shifts do not disturb the rows drawn).
  DenseData zeros = corner_images(60, 1);
  zeros.train_x = Tensor({60, 64}, DType::f32);
  Trainer shifted(cnn_config("shift:3"), zeros);
  Trainer plain(cnn_config(""), zeros);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(shifted.step(), plain.step()) << i;
}

TEST(Augmentation, RefusedForRowsThatAreNotImages) {
  // An MLP on rows of numbers (a CSV file's): neither the model nor the data has images.
  TrainConfig c = cnn_config("shift:1");
  c.model = model_preset("two-layer-net", {64}, 3);
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { Trainer t(c, corner_images(60, 1)); }),
              HasSubstr("augmentation shift:1 moves images: the model two-layer-net 64-50-3 "
                        "relu, softmax loss takes examples (64) and the data's are (64), not "
                        "images (C, H, W)"));
}

// The corner images as MNIST's sparse pixel rows: 8 x 8, so their examples are (1, 8, 8).
SparseMnist corner_pixels(std::int64_t n, std::uint64_t seed) {
  const DenseData d = corner_images(n, seed);
  auto pixels = [](const Tensor& x) {
    std::vector<std::uint8_t> v;
    for (double p : x.to_vector()) v.push_back(static_cast<std::uint8_t>(std::lround(p * 255)));
    return SparsePixels(v.data(), x.size(0), x.size(1), 1.0f / 255);
  };
  auto labels = [](const std::vector<std::int64_t>& l) {
    ByteBuffer out;
    for (std::int64_t c : l) out.push_back(static_cast<std::uint8_t>(c));
    return out;
  };
  SparseMnist m;
  m.train_images = pixels(d.train_x);
  m.test_images = pixels(d.test_x);
  m.train_labels = labels(d.train_labels);
  m.test_labels = labels(d.test_labels);
  m.classes = 3;
  return m;
}

// The same data offering dense batches only: an MLP is then given the images dense, flat.
class DenseOnly : public TrainingData {
 public:
  explicit DenseOnly(std::shared_ptr<TrainingData> data) : data_(std::move(data)) {}
  std::int64_t size(Split split) const override { return data_->size(split); }
  std::int64_t features() const override { return data_->features(); }
  Shape example_shape() const override { return data_->example_shape(); }
  std::int64_t classes() const override { return data_->classes(); }
  const Batch& batch(const std::vector<std::int64_t>& rows, InputForm form,
                     const Shape& example) override {
    EXPECT_EQ(form, InputForm::dense);
    return data_->batch(rows, form, example);
  }
  void for_each_block(Split split, InputForm form, const Shape& example,
                      const std::function<void(const Batch&)>& f) const override {
    data_->for_each_block(split, form, example, f);
  }

 private:
  std::shared_ptr<TrainingData> data_;
};

TrainConfig mlp_config(const std::string& augment) {
  TrainConfig c;
  c.model = model_preset("two-layer-net", {64}, 3);
  c.batch = 10;
  c.iters = 12;
  c.lr = 0.5;
  c.augment = augment;
  return c;
}

TEST_F(AugmentedTraining, SparseRowsOfAnMlpMoveAsTheDenseImages) {
  // MNIST's rows given to an MLP as sparse pixel rows, augmented: the same draws as the
  // same rows given dense, so the same training to rounding (the products sum in
  // another order); reproducible, and resumed exactly.
  Trainer sparse(mlp_config("shift:2"), corner_pixels(60, 1));
  Trainer again(mlp_config("shift:2"), corner_pixels(60, 1));
  Trainer dense(mlp_config("shift:2"),
                std::make_shared<DenseOnly>(mnist_training_data(corner_pixels(60, 1))));
  Trainer plain(mlp_config(""), corner_pixels(60, 1));
  for (int i = 0; i < 12; ++i) {
    const double loss = sparse.step();
    EXPECT_NEAR(dense.step(), loss, 1e-5) << i;
    again.step();
    plain.step();
  }
  EXPECT_EQ(parameters_of(sparse), parameters_of(again));
  const std::vector<std::vector<double>> s = parameters_of(sparse), d = parameters_of(dense),
                                         p = parameters_of(plain);
  double off_dense = 0, off_plain = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    for (std::size_t i = 0; i < s[k].size(); ++i) {
      off_dense = std::max(off_dense, std::abs(s[k][i] - d[k][i]));
      off_plain = std::max(off_plain, std::abs(s[k][i] - p[k][i]));
    }
  }
  EXPECT_LT(off_dense, 1e-5);
  EXPECT_GT(off_plain, 1e-3);  // the shifts changed the training

  // stopped at 5 (with batches made ahead on a thread), saved, resumed: the same bits
  Trainer first(mlp_config("shift:2"), corner_pixels(60, 1));
  first.set_threads(2);
  for (int i = 0; i < 5; ++i) first.step();
  first.save(path("mlp5"));
  Trainer resumed = Trainer::resume(path("mlp5"), corner_pixels(60, 1));
  EXPECT_EQ(resumed.config().augment, "shift:2");
  for (int i = 0; i < 7; ++i) resumed.step();
  EXPECT_EQ(parameters_of(resumed), parameters_of(sparse));
}

TEST(Augmentation, SlicesKeepTheirRowsShifts) {
  // --shards 2: the shifts drawn for the whole batch, each slice's rows moved by theirs.
  // The same bits every run, and (a model without batch statistics or dropout) the one
  // slice's training to rounding.
  auto trained = [](std::int64_t shards) {
    TrainConfig c = cnn_config("shift:2");
    c.shards = shards;
    auto t = std::make_unique<Trainer>(c, corner_images(60, 1));
    while (!t->done()) t->step();
    return t;
  };
  const auto two = trained(2), two_again = trained(2), one = trained(1);
  EXPECT_EQ(two->state_hash(), two_again->state_hash());
  const std::vector<std::vector<double>> a = parameters_of(*two), b = parameters_of(*one);
  for (std::size_t k = 0; k < a.size(); ++k) {
    for (std::size_t i = 0; i < a[k].size(); ++i) EXPECT_NEAR(a[k][i], b[k][i], 1e-4) << k;
  }
  TrainConfig plain = cnn_config("");
  plain.shards = 2;
  Trainer unmoved(plain, corner_images(60, 1));
  while (!unmoved.done()) unmoved.step();
  EXPECT_NE(unmoved.state_hash(), two->state_hash());
}

}  // namespace
}  // namespace nabla
