// Augmentation (nabla/train/augment.h): the shifted pixels exactly, the shifts drawn, and
// in the Trainer: labels kept, runs reproducible from the seed and resumed exactly, and
// evaluations of the images as they are.
#include "nabla/train/augment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
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

TEST(Augmentation, RefusedForModelsThatDoNotTakeImages) {
  TrainConfig c = cnn_config("shift:1");
  c.model = model_preset("two-layer-net", {64}, 3);
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { Trainer t(c, corner_images(60, 1)); }),
              HasSubstr("augmentation shift:1 moves images"));
  TrainConfig sliced = cnn_config("shift:1");
  sliced.shards = 2;
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { Trainer t(sliced, corner_images(60, 1)); }),
              HasSubstr("one slice"));
}

}  // namespace
}  // namespace nabla
