// Training on a small synthetic MNIST: the Trainer learns, evaluates on the textbook's
// schedule, resumes bit for bit, stops on a NaN loss, adds the L2 penalty as documented;
// model files are checked when read back.
#include "nabla/train/train.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>

#include "nabla/core/safetensors.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing_util::error_of;
using testing_util::same_bits;

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A learnable stand-in for MNIST: side x side images; class c lights up row c (rows
// wrap when side < classes) over a background of dim noise.
Dataset synthetic_split(std::int64_t size, std::int64_t side, std::uint64_t seed) {
  Dataset d;
  d.size = size;
  d.features = side * side;
  d.classes = 10;
  Rng rng(seed);
  for (std::int64_t i = 0; i < size; ++i) {
    auto label = static_cast<std::uint8_t>(rng.below(10));
    d.labels.push_back(label);
    for (std::int64_t y = 0; y < side; ++y) {
      for (std::int64_t x = 0; x < side; ++x) {
        std::int64_t v = rng.below(80);
        if (y == label % side) v += 150;
        d.images.push_back(static_cast<std::uint8_t>(v));
      }
    }
  }
  return d;
}

Mnist synthetic_mnist(std::int64_t train, std::int64_t test, std::int64_t side = 10) {
  return Mnist{synthetic_split(train, side, 1), synthetic_split(test, side, 2)};
}

TrainConfig small_config(std::int64_t side = 10) {
  TrainConfig c;
  c.model.inputs = side * side;
  c.model.hidden = {20};
  c.batch = 50;
  c.lr = 0.1;
  return c;
}

// A fresh, empty directory per test.
class TrainFiles : public testing_util::TempDirTest {
 protected:
  std::string file(const std::string& name) const { return path(name); }
};

// ---- learning and evaluation --------------------------------------------------------

TEST(Trainer, LearnsSyntheticDigits) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.iters = 300;
  c.lr = 0.5;
  Trainer trainer(c, data);
  Evaluation before = trainer.evaluate();
  EXPECT_LT(before.test_acc, 0.3);  // about chance (0.1)
  double first_loss = trainer.step();
  EXPECT_NEAR(first_loss, std::log(10.0), 0.05);  // tiny weights: uniform probabilities
  double loss = first_loss;
  while (!trainer.done()) loss = trainer.step();
  Evaluation after = trainer.evaluate();
  EXPECT_EQ(after.iteration, 300);
  EXPECT_GT(after.train_acc, 0.95);
  EXPECT_GT(after.test_acc, 0.95);
  EXPECT_LT(loss, 0.3);
  // evaluate() is evaluate_accuracy on the whole splits.
  EXPECT_EQ(after.test_acc, evaluate_accuracy(trainer.model(), data.test));
  EXPECT_EQ(after.test_acc, evaluate_accuracy(trainer.model(), data.test, 7));  // any block
}

TEST(Trainer, EvaluationInTheBackgroundIsTheSame) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.lr = 0.5;
  Trainer trainer(c, data);
  for (int i = 0; i < 20; ++i) trainer.step();
  const Evaluation now = trainer.evaluate();
  std::future<Evaluation> later = trainer.evaluate_in_background();
  for (int i = 0; i < 20; ++i) trainer.step();  // training goes on meanwhile
  const Evaluation e = later.get();
  EXPECT_EQ(e.iteration, 20);
  EXPECT_EQ(e.train_acc, now.train_acc);  // of the parameters at iteration 20, bit for bit
  EXPECT_EQ(e.test_acc, now.test_acc);
  EXPECT_GT(e.seconds, 0.0);
  EXPECT_NE(trainer.evaluate().train_acc, now.train_acc);  // the model itself moved on
}

TEST(Trainer, EvaluatesOnTheTextbookSchedule) {
  // 60,000 images of 2 x 2 pixels, batch 100: 600 iterations per epoch; the textbook
  // evaluates when i % 600 == 0 for i in range(10000), i.e. after 1, 601, ..., 9601
  // updates: 17 times.
  Mnist data = synthetic_mnist(60000, 2, 2);
  data.test = synthetic_split(100, 2, 3);
  TrainConfig c;
  c.model.kind = "linear";
  c.model.inputs = 4;
  c.model.hidden = {};
  Trainer trainer(c, data);
  EXPECT_EQ(trainer.iters_per_epoch(), 600);
  EXPECT_EQ(trainer.total_iters(), 10000);
  EXPECT_FALSE(trainer.eval_due());
  std::vector<std::int64_t> evaluated;
  while (!trainer.done()) {
    trainer.step();
    if (trainer.eval_due()) evaluated.push_back(trainer.iteration());
  }
  ASSERT_EQ(evaluated.size(), 17u);
  for (std::size_t k = 0; k < evaluated.size(); ++k) {
    EXPECT_EQ(evaluated[k], 1 + 600 * static_cast<std::int64_t>(k));
  }
}

TEST(Trainer, EpochsAndIterationsPerEpoch) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.batch = 64;  // 600 / 64 = 9.4: the textbook's max(train_size / batch_size, 1) = 9
  c.epochs = 3;
  Trainer t(c, data);
  EXPECT_EQ(t.iters_per_epoch(), 9);
  EXPECT_EQ(t.total_iters(), 27);

  c.batch = 600;
  c.epochs = 0;
  c.iters = 5;
  Trainer whole(c, data);
  EXPECT_EQ(whole.iters_per_epoch(), 1);
  EXPECT_EQ(whole.total_iters(), 5);
  whole.step();
  EXPECT_TRUE(whole.eval_due());  // every iteration is an epoch
  whole.step();
  EXPECT_TRUE(whole.eval_due());
}

TEST(Trainer, RejectsBadOptions) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.batch = 601;
  EXPECT_EQ(error_of<ValueError>([&] { Trainer t(c, data); }),
            "batch size 601 must be in [1, 600]");
  c = small_config();
  c.lr = 0;
  EXPECT_EQ(error_of<ValueError>([&] { Trainer t(c, data); }),
            "learning rate must be a positive number");
  c = small_config();
  c.reg = -1;
  EXPECT_THAT(error_of<ValueError>([&] { Trainer t(c, data); }), HasSubstr("regularization"));
  c = small_config();
  c.model.inputs = 784;
  EXPECT_EQ(error_of<ValueError>([&] { Trainer t(c, data); }),
            "model two-layer-net 784-20-10 relu, softmax loss does not fit the data (100 "
            "features, 10 classes)");
  c = small_config();
  c.optimizer = "lbfgs";
  EXPECT_THAT(error_of<ValueError>([&] { Trainer t(c, data); }), HasSubstr("lbfgs"));
}

TEST(Trainer, SameSeedSameRun) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.iters = 20;
  Trainer a(c, data), b(c, data);
  while (!a.done()) EXPECT_EQ(a.step(), b.step());
  for (std::size_t i = 0; i < a.model().parameters().size(); ++i) {
    EXPECT_TRUE(same_bits(a.model().parameters()[i].value(), b.model().parameters()[i].value()));
  }
  c.seed = 43;
  Trainer other(c, data);
  EXPECT_FALSE(same_bits(a.model().parameters()[0].value(), other.model().parameters()[0].value()));
}

TEST(Trainer, EpochCountThatOverflowsIsRefused) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.epochs = std::int64_t{1} << 62;  // times 12 iterations per epoch
  EXPECT_EQ(error_of<ValueError>([&] { Trainer t(c, data); }),
            "4611686018427387904 epochs of 12 iterations are more iterations than can be "
            "counted");
  c = small_config();
  c.reg = std::numeric_limits<double>::infinity();
  EXPECT_THAT(error_of<ValueError>([&] { Trainer t(c, data); }), HasSubstr("regularization"));
  c.reg = std::nan("");
  EXPECT_THAT(error_of<ValueError>([&] { Trainer t(c, data); }), HasSubstr("regularization"));
}

// ---- NaN, divergence and L2
// -----------------------------------------------------------------------

TEST(Trainer, NonFiniteLossStopsWithAdvice) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.lr = 1e30;
  Trainer trainer(c, data);
  std::int64_t finite_steps = 0;
  std::string message = error_of<TrainingError>([&] {
    for (int i = 0; i < 10; ++i) {
      trainer.step();
      ++finite_steps;
    }
  });
  // The first update blows the weights up; the second batch's loss is no longer finite.
  EXPECT_EQ(finite_steps, 1);
  EXPECT_EQ(trainer.iteration(), 1);  // the bad step did not update anything
  EXPECT_THAT(message, HasSubstr("iteration 1: the loss is "));
  EXPECT_THAT(message, HasSubstr("Try a lower learning rate (now "));
}

TEST(Trainer, GrowingLossStopsNamingTheIteration) {
  // lr 1e6: the loss grows from 2.3 by many orders of magnitude while staying finite.
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.lr = 1e6;
  c.iters = 100;
  Trainer trainer(c, data);
  std::string message = error_of<TrainingError>([&] {
    while (!trainer.done()) trainer.step();
  });
  EXPECT_THAT(message, ::testing::MatchesRegex("iteration [0-9]+: the loss diverged: .* is over "
                                               "10000 times its first value 2\\.3.*"));
  EXPECT_LT(trainer.iteration(), 100);
}

TEST(Trainer, NonFiniteStartIsNotBlamedOnTheLearningRate) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.model.init_std = 1e300;  // infinite as float32
  Trainer trainer(c, data);
  std::string message = error_of<TrainingError>([&] { trainer.step(); });
  EXPECT_THAT(message, HasSubstr("iteration 0: the loss is NaN"));
  EXPECT_THAT(message, HasSubstr("first step, before any update"));
  EXPECT_THAT(message, HasSubstr("parameter W1 holds values that are not finite"));
  EXPECT_THAT(message, HasSubstr("init std 1e+300"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("learning rate")));

  // A penalty too large for a double: it is the penalty that is infinite, at the start.
  c = small_config();
  c.model.init_std = 1;
  c.reg = 1e308;
  Trainer heavy(c, data);
  message = error_of<TrainingError>([&] { heavy.step(); });
  EXPECT_THAT(message, HasSubstr("iteration 0: the loss is infinite (data loss "));
  EXPECT_THAT(message, HasSubstr("L2 penalty inf with reg 1e+308"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("learning rate")));
}

// One step on one sample of a linear model, by hand: x = (1, 0), label 0, scores
// z = x.W + b = W[0, :], p = softmax(z), loss = -log(p_0 + 1e-7) + lambda * sum W^2,
// dW[i][j] = x_i (p_j - t_j) + 2 lambda W[i][j], db = p - t.
TEST(Trainer, L2PenaltyByHand) {
  Dataset one;
  one.size = 1;
  one.features = 2;
  one.classes = 2;
  one.images = {255, 0};
  one.labels = {0};
  Mnist data{one, one};
  TrainConfig c;
  c.model.kind = "linear";
  c.model.inputs = 2;
  c.model.classes = 2;
  c.model.hidden = {};
  c.model.init_std = 0.5;  // weights large enough for the penalty to matter
  c.batch = 1;
  c.lr = 0.1;
  c.reg = 0.25;
  Trainer trainer(c, data);
  Var W = trainer.model().parameter("W1"), b = trainer.model().parameter("b1");
  std::vector<double> w0 = W.value().to_vector();  // (2, 2) row-major
  ASSERT_EQ(w0.size(), 4u);
  EXPECT_EQ(b.value().to_vector(), (std::vector<double>{0, 0}));

  double e0 = std::exp(w0[0]), e1 = std::exp(w0[1]);
  double p[2] = {e0 / (e0 + e1), e1 / (e0 + e1)};
  double squares = 0;
  for (double w : w0) squares += w * w;
  double expected_loss = -std::log(p[0] + 1e-7) + c.reg * squares;

  double loss = trainer.step();
  EXPECT_NEAR(loss, expected_loss, 1e-6);
  double x[2] = {1, 0}, t[2] = {1, 0};
  std::vector<double> w1 = W.value().to_vector();
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      double w = w0[static_cast<std::size_t>(2 * i + j)];
      double grad = x[i] * (p[j] - t[j]) + 2 * c.reg * w;
      EXPECT_NEAR(w1[static_cast<std::size_t>(2 * i + j)], w - c.lr * grad, 1e-6)
          << "W[" << i << "][" << j << "]";
    }
  }
  // Biases are not penalised.
  std::vector<double> b1 = b.value().to_vector();
  EXPECT_NEAR(b1[0], -c.lr * (p[0] - 1), 1e-7);
  EXPECT_NEAR(b1[1], -c.lr * p[1], 1e-7);
}

TEST(Trainer, PenaltyCoversWeightMatricesOnly) {
  // The same first step with and without the penalty: the losses differ by
  // lambda * (sum W1^2 + sum W2^2), each weight by lr * 2 lambda * W, the biases not at all.
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.model.init_std = 0.1;
  Trainer plain(c, data);
  c.reg = 0.5;
  Trainer penalised(c, data);
  std::vector<Tensor> initial;
  double squares = 0;
  for (const Var& p : plain.model().parameters()) {
    initial.push_back(p.value());
    if (p.value().rank() == 2) {
      for (double w : p.value().to_vector()) squares += w * w;
    }
  }
  double plain_loss = plain.step();
  double penalised_loss = penalised.step();
  EXPECT_NEAR(penalised_loss - plain_loss, c.reg * squares, 1e-6 * squares);

  std::vector<Var> p = plain.model().parameters(), q = penalised.model().parameters();
  for (std::size_t k = 0; k < p.size(); ++k) {
    std::vector<double> w0 = initial[k].to_vector(), wp = p[k].value().to_vector(),
                        wq = q[k].value().to_vector();
    bool weights = initial[k].rank() == 2;
    for (std::size_t i = 0; i < w0.size(); ++i) {
      double expected = weights ? -c.lr * 2 * c.reg * w0[i] : 0.0;
      ASSERT_NEAR(wq[i] - wp[i], expected, 1e-6) << p[k].name() << "[" << i << "]";
    }
  }
}

// ---- resume -------------------------------------------------------------------------

struct ResumeCase {
  const char* optimizer;
  Sampling sampling;
  std::int64_t batch;
};

// How GoogleTest shows a case in its listing (by default the struct's bytes, padding and
// pointer included, which change from build to build).
void PrintTo(const ResumeCase& c, std::ostream* os) {
  *os << c.optimizer << " " << sampling_name(c.sampling) << " batch " << c.batch;
}

class Resume : public TrainFiles, public ::testing::WithParamInterface<ResumeCase> {};

TEST_P(Resume, MatchesAnUninterruptedRun) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.optimizer = GetParam().optimizer;
  c.lr = c.optimizer == std::string("adam") ? 0.01 : 0.1;
  c.sampling = GetParam().sampling;
  c.batch = GetParam().batch;
  c.iters = 1000;  // the planned total; both runs stop early at 2 epochs

  Trainer straight(c, data);
  const std::int64_t per_epoch = straight.iters_per_epoch();
  std::vector<double> straight_losses;
  for (std::int64_t i = 0; i < 2 * per_epoch; ++i) straight_losses.push_back(straight.step());

  Trainer first(c, data);
  for (std::int64_t i = 0; i < per_epoch; ++i) first.step();
  first.save(file("checkpoint.safetensors"));
  Trainer resumed = Trainer::resume(file("checkpoint.safetensors"), data, 2 * per_epoch);
  EXPECT_EQ(resumed.iteration(), per_epoch);
  EXPECT_EQ(resumed.total_iters(), 2 * per_epoch);
  EXPECT_EQ(resumed.config().optimizer, c.optimizer);
  std::int64_t i = per_epoch;
  while (!resumed.done()) {
    EXPECT_EQ(resumed.step(), straight_losses[static_cast<std::size_t>(i)]) << "iteration " << i;
    ++i;
  }
  EXPECT_EQ(i, 2 * per_epoch);

  std::vector<Var> a = straight.model().parameters(), b = resumed.model().parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(same_bits(a[k].value(), b[k].value())) << a[k].name();
  }
  // And the run that was not resumed but went on in memory agrees too.
  for (std::int64_t k = per_epoch; k < 2 * per_epoch; ++k) first.step();
  EXPECT_TRUE(same_bits(first.model().parameters()[0].value(), a[0].value()));
}

// Renames the optimizer's entries as files written before names were used have them: by
// the parameter's position ("optimizer.m.0" for names[0], was "optimizer.m.W1").
void key_optimizer_state_by_position(SafetensorsFile& f, const std::vector<std::string>& names) {
  for (auto& [key, t] : f.tensors) {
    if (key.rfind("optimizer.", 0) != 0 || key == "optimizer.step") continue;
    const std::size_t dot = key.find('.', 10);  // after the slot: optimizer.m.W1
    const std::string name = key.substr(dot + 1);
    const auto i = std::find(names.begin(), names.end(), name) - names.begin();
    ASSERT_LT(static_cast<std::size_t>(i), names.size()) << key;
    key = key.substr(0, dot + 1) + std::to_string(i);
  }
}

TEST_F(TrainFiles, CheckpointNamesOptimizerStateByParameterAndReadsOldFiles) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig mlp = small_config();
  mlp.optimizer = "adam";
  mlp.lr = 0.01;
  mlp.iters = 40;
  // Names with a batch norm's (gamma2, beta2) and a convolution's, and another slot.
  TrainConfig cnn = small_config();
  cnn.model = model_from_arch("conv:2x3,pad=1 batchnorm relu maxpool:2 affine:10", {1, 10, 10}, 10);
  cnn.optimizer = "momentum";
  cnn.iters = 40;
  struct Case {
    TrainConfig config;
    std::vector<std::string> keys;  // some of the names the file must hold
  };
  for (const Case& c :
       {Case{mlp, {"W1", "b1", "W2", "b2", "optimizer.step", "optimizer.m.W1", "optimizer.v.b2"}},
        Case{cnn,
             {"W1", "gamma2", "running_mean2", "optimizer.velocity.W1", "optimizer.velocity.gamma2",
              "optimizer.velocity.b3"}}}) {
    SCOPED_TRACE(c.config.optimizer);
    Trainer straight(c.config, data);
    std::vector<double> losses;
    while (!straight.done()) losses.push_back(straight.step());

    Trainer first(c.config, data);
    for (int i = 0; i < 20; ++i) first.step();
    first.save(file("named.safetensors"));
    SafetensorsFile f = load_safetensors(file("named.safetensors"));
    std::vector<std::string> keys;
    for (const auto& [name, t] : f.tensors) keys.push_back(name);
    for (const std::string& key : c.keys) {
      EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
    }
    // The same entries in the reverse order, and by position as older files have them.
    std::reverse(f.tensors.begin(), f.tensors.end());
    save_safetensors(file("reversed.safetensors"), f.tensors, f.metadata);
    std::vector<std::string> names;
    for (const auto& [name, p] : first.model().named_parameters()) names.push_back(name);
    key_optimizer_state_by_position(f, names);
    save_safetensors(file("positional.safetensors"), f.tensors, f.metadata);

    for (const char* name :
         {"named.safetensors", "reversed.safetensors", "positional.safetensors"}) {
      Trainer resumed = Trainer::resume(file(name), data);
      for (std::size_t i = 20; i < losses.size(); ++i) {
        ASSERT_EQ(resumed.step(), losses[i]) << name << ", iteration " << i;
      }
      std::vector<Var> a = straight.model().parameters(), b = resumed.model().parameters();
      for (std::size_t k = 0; k < a.size(); ++k) {
        EXPECT_TRUE(same_bits(a[k].value(), b[k].value())) << name << ", " << names[k];
      }
    }
  }
}

TEST_F(TrainFiles, OptimizerStateErrorsNameTheEntry) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.optimizer = "adam";
  Trainer t(c, data);
  t.step();
  t.save(file("c.safetensors"));
  auto resume_with = [&](const std::string& from, const std::string& to, bool keep) {
    SafetensorsFile f = load_safetensors(file("c.safetensors"));
    for (std::size_t i = 0; i < f.tensors.size(); ++i) {
      if (f.tensors[i].first != from) continue;
      if (keep) {
        f.tensors.emplace_back(to, f.tensors[i].second);
      } else {
        f.tensors[i].first = to;
      }
      break;
    }
    save_safetensors(file("d.safetensors"), f.tensors, f.metadata);
    return error_of<DataError>([&] { Trainer::resume(file("d.safetensors"), data); });
  };
  const std::string cannot = file("d.safetensors") + ": cannot resume: adam optimizer state: ";
  const std::string expects =
      " (expects step, m.<parameter>, v.<parameter> for the parameters W1, b1, W2, b2)";
  EXPECT_EQ(resume_with("optimizer.m.W2", "optimizer.m.W3", false),
            cannot + "unknown entry 'm.W3': no parameter is named 'W3'" + expects);
  EXPECT_EQ(resume_with("optimizer.m.W2", "optimizer.velocity.W2", false),
            cannot + "unknown entry 'velocity.W2'" + expects);
  EXPECT_EQ(resume_with("optimizer.m.W2", "optimizer.m.4", false),
            cannot + "unknown entry 'm.4': position 4 is past the last parameter" + expects);
  // (A file cannot hold one name twice, but it can hold a name and a position.)
  EXPECT_EQ(resume_with("optimizer.v.b1", "optimizer.v.1", true),
            cannot + "entries 'v.b1' and 'v.1' are both the state v of parameter b1");
}

INSTANTIATE_TEST_SUITE_P(
    Trainer, Resume,
    ::testing::Values(ResumeCase{"sgd", Sampling::with_replacement, 50},
                      ResumeCase{"momentum", Sampling::with_replacement, 50},
                      ResumeCase{"adam", Sampling::with_replacement, 50},
                      ResumeCase{"sgd", Sampling::shuffled_epochs, 50},
                      ResumeCase{"momentum", Sampling::shuffled_epochs, 50},
                      ResumeCase{"adam", Sampling::shuffled_epochs, 50},
                      // 600 / 64: an epoch of the sampler (10 batches) is not one of the
                      // Trainer (9), so the checkpoint falls inside a permutation.
                      ResumeCase{"adam", Sampling::shuffled_epochs, 64}),
    [](const ::testing::TestParamInfo<ResumeCase>& test) {
      return std::string(test.param.optimizer) + "_" + sampling_name(test.param.sampling) +
             "_batch" + std::to_string(test.param.batch);
    });

TEST_F(TrainFiles, ResumeKeepsThePlanUnlessTold) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.iters = 30;
  Trainer t(c, data);
  for (int i = 0; i < 10; ++i) t.step();
  t.save(file("c.safetensors"));
  Trainer r = Trainer::resume(file("c.safetensors"), data);
  EXPECT_EQ(r.iteration(), 10);
  EXPECT_EQ(r.total_iters(), 30);
  EXPECT_EQ(r.config().to_json(), c.to_json());
}

TEST_F(TrainFiles, ResumeFromAFileWithoutTrainingState) {
  Mnist data = synthetic_mnist(600, 200);
  Trainer t(small_config(), data);
  t.save(file("c.safetensors"));
  SafetensorsFile f = load_safetensors(file("c.safetensors"));
  f.metadata.erase("train");
  save_safetensors(file("c.safetensors"), f.tensors, f.metadata);
  EXPECT_EQ(error_of<DataError>([&] { Trainer::resume(file("c.safetensors"), data); }),
            file("c.safetensors") + ": not a nabla model file (metadata 'train' missing)");

  t.save(file("d.safetensors"));
  f = load_safetensors(file("d.safetensors"));
  f.metadata["rng"] = "not a state";
  save_safetensors(file("d.safetensors"), f.tensors, f.metadata);
  EXPECT_THAT(error_of<DataError>([&] { Trainer::resume(file("d.safetensors"), data); }),
              HasSubstr(file("d.safetensors") + ": cannot resume: "));
}

// ---- architecture and options as JSON -----------------------------------------------

TEST(BuildModel, Architectures) {
  Rng rng(1);
  ModelSpec spec;
  Sequential net = build_model(spec, rng);
  std::vector<Var> p = net.parameters();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].name(), "W1");
  EXPECT_EQ(p[0].shape(), (Shape{784, 50}));
  EXPECT_EQ(p[3].name(), "b2");
  EXPECT_EQ(p[3].shape(), (Shape{10}));
  EXPECT_EQ(spec.describe(), "two-layer-net 784-50-10 relu, softmax loss");

  spec.kind = "mlp";
  spec.hidden = {100, 100};
  spec.activation = "tanh";
  spec.loss = "svm";
  spec.init = Init::xavier;
  net = build_model(spec, rng, DType::f64);
  p = net.parameters();
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[2].shape(), (Shape{100, 100}));
  EXPECT_EQ(p[4].shape(), (Shape{100, 10}));
  EXPECT_EQ(p[0].dtype(), DType::f64);
  EXPECT_EQ(spec.describe(), "mlp 784-100-100-10 tanh, svm loss");

  spec.kind = "linear";
  spec.hidden = {};
  net = build_model(spec, rng);
  EXPECT_EQ(net.parameters().size(), 2u);
  EXPECT_EQ(spec.describe(), "linear 784-10, svm loss");
}

TEST(BuildModel, Errors) {
  Rng rng(1);
  auto error = [&](ModelSpec s) { return error_of<ValueError>([&] { build_model(s, rng); }); };
  ModelSpec s;
  s.kind = "cnn";
  EXPECT_EQ(error(s),
            "model 'cnn' is not one of two-layer-net, mlp, linear, simple-convnet, "
            "deep-convnet, arch, window-tagger");
  s = ModelSpec{};
  s.kind = "mlp";
  s.activation = "gelu";
  EXPECT_EQ(error(s), "activation 'gelu' is not one of relu, sigmoid, tanh");
  s = ModelSpec{};
  s.loss = "hinge";
  EXPECT_EQ(error(s), "loss 'hinge' is not one of softmax, svm, mse, crf");
  s = ModelSpec{};
  s.activation = "sigmoid";
  EXPECT_EQ(error(s), "model two-layer-net has one ReLU hidden layer; use mlp for others");
  s = ModelSpec{};
  s.hidden = {50, 50};
  EXPECT_EQ(error(s), "model two-layer-net has one ReLU hidden layer; use mlp for others");
  s = ModelSpec{};
  s.kind = "linear";
  EXPECT_EQ(error(s), "model linear has no hidden layers");
  s = ModelSpec{};
  s.kind = "mlp";
  s.hidden = {100, 0};
  EXPECT_EQ(error(s), "hidden layer size 0 must be positive");
  s = ModelSpec{};
  s.classes = 1;
  EXPECT_EQ(error(s), "model needs at least 1 input and 2 classes");
}

TEST(ModelSpecJson, RoundTrip) {
  ModelSpec s;
  s.kind = "mlp";
  s.inputs = 64;
  s.classes = 3;
  s.hidden = {7, 5};
  s.activation = "sigmoid";
  s.loss = "svm";
  s.init = Init::he;
  s.init_std = 0.125;
  ModelSpec back = ModelSpec::from_json(s.to_json());
  EXPECT_EQ(back.to_json(), s.to_json());
  EXPECT_EQ(back.kind, "mlp");
  EXPECT_EQ(back.inputs, 64);
  EXPECT_EQ(back.classes, 3);
  EXPECT_EQ(back.hidden, (std::vector<std::int64_t>{7, 5}));
  EXPECT_EQ(back.activation, "sigmoid");
  EXPECT_EQ(back.loss, "svm");
  EXPECT_EQ(back.init, Init::he);
  EXPECT_EQ(back.init_std, 0.125);
}

TEST(ModelSpecJson, ErrorsNameTheField) {
  nlohmann::json j = nlohmann::json::parse(ModelSpec{}.to_json());
  j.erase("hidden");
  EXPECT_EQ(error_of<ValueError>([&] { ModelSpec::from_json(j.dump()); }),
            "model architecture: missing field 'hidden'");
  j = nlohmann::json::parse(ModelSpec{}.to_json());
  j["inputs"] = "many";
  EXPECT_EQ(error_of<ValueError>([&] { ModelSpec::from_json(j.dump()); }),
            "model architecture: field 'inputs' has the wrong type");
  j = nlohmann::json::parse(ModelSpec{}.to_json());
  j["init"] = "zeros";
  EXPECT_THAT(error_of<ValueError>([&] { ModelSpec::from_json(j.dump()); }), HasSubstr("zeros"));
  EXPECT_THAT(error_of<ValueError>([&] { ModelSpec::from_json("{\"kind\": "); }),
              HasSubstr("model architecture: not valid JSON"));
}

TEST(TrainConfigJson, RoundTrip) {
  TrainConfig c;
  c.model.kind = "mlp";
  c.model.hidden = {100, 100};
  c.iters = 123;
  c.epochs = 4;
  c.batch = 32;
  c.lr = 0.003;
  c.optimizer = "adamw";
  c.weight_decay = 0.01;
  c.reg = 1e-4;
  c.seed = 18446744073709551615ull;  // the largest seed survives JSON
  c.sampling = Sampling::shuffled_epochs;
  TrainConfig back = TrainConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.iters, 123);
  EXPECT_EQ(back.epochs, 4);
  EXPECT_EQ(back.batch, 32);
  EXPECT_EQ(back.lr, 0.003);
  EXPECT_EQ(back.optimizer, "adamw");
  EXPECT_EQ(back.weight_decay, 0.01);
  EXPECT_EQ(back.reg, 1e-4);
  EXPECT_EQ(back.seed, 18446744073709551615ull);
  EXPECT_EQ(back.sampling, Sampling::shuffled_epochs);
  EXPECT_EQ(back.model.hidden, (std::vector<std::int64_t>{100, 100}));
}

TEST(TrainConfigJson, ErrorsNameTheField) {
  for (const char* key : {"iters", "epochs", "batch", "lr", "optimizer", "weight_decay", "reg",
                          "seed", "sampling", "model"}) {
    nlohmann::json j = nlohmann::json::parse(TrainConfig{}.to_json());
    j.erase(key);
    EXPECT_EQ(error_of<ValueError>([&] { TrainConfig::from_json(j.dump()); }),
              std::string("training options: missing field '") + key + "'");
  }
  nlohmann::json j = nlohmann::json::parse(TrainConfig{}.to_json());
  j["sampling"] = "sometimes";
  EXPECT_THAT(error_of<ValueError>([&] { TrainConfig::from_json(j.dump()); }),
              HasSubstr("sampling 'sometimes' is not one of"));
  j = nlohmann::json::parse(TrainConfig{}.to_json());
  j["model"].erase("loss");
  EXPECT_EQ(error_of<ValueError>([&] { TrainConfig::from_json(j.dump()); }),
            "model architecture: missing field 'loss'");
}

// ---- model files ----------------------------------------------------------------------

TEST_F(TrainFiles, SavedModelLoadsAndScoresTheSame) {
  Mnist data = synthetic_mnist(600, 200);
  TrainConfig c = small_config();
  c.iters = 100;
  c.lr = 0.5;
  Trainer t(c, data);
  while (!t.done()) t.step();
  Evaluation e = t.evaluate();
  t.save(file("model.safetensors"));
  EXPECT_FALSE(fs::exists(file("model.safetensors.tmp")));

  LoadedModel m = load_model(file("model.safetensors"));
  EXPECT_EQ(m.spec.to_json(), c.model.to_json());
  EXPECT_EQ(m.metadata.at("format"), "nabla-model-1");
  EXPECT_EQ(m.metadata.at("iteration"), "100");
  std::vector<Var> a = t.model().parameters(), b = m.net.parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_TRUE(same_bits(a[k].value(), b[k].value()));
  EXPECT_EQ(evaluate_accuracy(m.net, data.test), e.test_acc);
  EXPECT_EQ(evaluate_accuracy(m.net, data.train), e.train_acc);

  // Other tools see the parameters under their names.
  SafetensorsFile f = load_safetensors(file("model.safetensors"));
  EXPECT_EQ(f.tensors[0].first, "W1");
  EXPECT_EQ(f.tensors[0].second.shape(), (Shape{100, 20}));
}

TEST_F(TrainFiles, ModelOfAnotherArchitecture) {
  // Saved with hidden 100, but the metadata claims hidden 50.
  Rng rng(3);
  ModelSpec saved;
  saved.hidden = {100};
  Sequential net = build_model(saved, rng);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const Var& p : net.parameters()) tensors.emplace_back(p.name(), p.value());
  ModelSpec claimed;  // hidden 50
  save_safetensors(file("m.safetensors"), tensors,
                   {{"format", "nabla-model-1"}, {"model", claimed.to_json()}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(file("m.safetensors")); }),
            file("m.safetensors") +
                ": parameter W1 has shape (784,100), the architecture two-layer-net "
                "784-50-10 relu, softmax loss expects (784,50)");

  // A parameter missing from the file.
  tensors.pop_back();
  save_safetensors(file("n.safetensors"), tensors,
                   {{"format", "nabla-model-1"}, {"model", saved.to_json()}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(file("n.safetensors")); }),
            file("n.safetensors") +
                ": parameter b2 of two-layer-net 784-100-10 relu, softmax loss is missing");
}

TEST_F(TrainFiles, DamagedModelFile) {
  Mnist data = synthetic_mnist(600, 200);
  Trainer t(small_config(), data);
  t.save(file("model.safetensors"));
  auto size = fs::file_size(file("model.safetensors"));
  fs::resize_file(file("model.safetensors"), size - 100);
  std::string error = error_of<DataError>([&] { load_model(file("model.safetensors")); });
  EXPECT_THAT(error, HasSubstr(file("model.safetensors") + ": "));

  // Not a safetensors file at all.
  std::ofstream(file("notes.txt")) << "hello, this is not a model\n";
  EXPECT_THAT(error_of<DataError>([&] { load_model(file("notes.txt")); }),
              HasSubstr(file("notes.txt") + ": "));

  EXPECT_THAT(error_of<DataError>([&] { load_model(file("missing.safetensors")); }),
              HasSubstr(file("missing.safetensors")));
}

// A few hundred bytes whose metadata claims a huge network: refused from the metadata and
// the tensors, before anything is allocated.
TEST_F(TrainFiles, HugeArchitectureIsRefusedBeforeAllocating) {
  auto save = [&](const std::string& name, const std::string& model_json) {
    save_safetensors(file(name), {{"W1", Tensor({2, 2})}},
                     {{"format", "nabla-model-1"}, {"model", model_json}});
    return file(name);
  };
  ModelSpec huge;
  huge.hidden = {4000000000};
  std::string path = save("huge.safetensors", huge.to_json());
  EXPECT_EQ(error_of<DataError>([&] { load_model(path); }),
            path + ": hidden layer size 4000000000 is over the limit of 1048576");
  huge.kind = "mlp";
  huge.hidden = {1 << 20, 1 << 20};
  path = save("wide.safetensors", huge.to_json());
  EXPECT_THAT(error_of<DataError>([&] { load_model(path); }),
              HasSubstr(path + ": model mlp 784-1048576-1048576-10 relu, softmax loss has "));
  // Within the bounds but not what the file holds: the tensors are checked first.
  huge.hidden = {100000};
  path = save("big.safetensors", huge.to_json());
  EXPECT_EQ(error_of<DataError>([&] { load_model(path); }),
            path +
                ": parameter W1 has shape (2,2), the architecture mlp 784-100000-10 relu, "
                "softmax loss expects (784,100000)");
}

TEST_F(TrainFiles, NumbersInTheMetadataAreChecked) {
  auto error = [&](const std::string& model_json) {
    save_safetensors(file("m.safetensors"), {{"W1", Tensor({2, 2})}},
                     {{"format", "nabla-model-1"}, {"model", model_json}});
    return error_of<DataError>([&] { load_model(file("m.safetensors")); });
  };
  std::string spec = ModelSpec{}.to_json();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = spec;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  // A float in an integer field (its conversion would be undefined behaviour).
  EXPECT_EQ(error(with("\"inputs\":784", "\"inputs\":1e300")),
            file("m.safetensors") +
                ": model architecture: field 'inputs' must be an integer "
                "from -9223372036854775808 to 9223372036854775807, not 1e+300");
  EXPECT_THAT(error(with("\"hidden\":[50]", "\"hidden\":[2.5]")),
              HasSubstr("field 'hidden' must be an integer"));
  EXPECT_THAT(error(with("\"classes\":10", "\"classes\":18446744073709551615")),
              HasSubstr("field 'classes' must be an integer"));
  // A number too large for a double: nlohmann's out_of_range, reported with the file.
  EXPECT_THAT(error(with("\"inputs\":784", "\"inputs\":1e400")),
              HasSubstr(file("m.safetensors") + ": model architecture: not valid JSON"));
}

// A parameter or buffer holding NaN or an infinity would evaluate to some accuracy (and a
// resumed run would train on it): refused at load, naming the tensor and the element.
TEST_F(TrainFiles, NonFiniteWeightsAreRefusedNamingTheTensor) {
  Mnist data = synthetic_mnist(600, 200);
  Trainer t(small_config(), data);
  t.save(file("model.safetensors"));
  const SafetensorsFile good = load_safetensors(file("model.safetensors"));
  auto with = [&](const std::string& name, std::int64_t element, double value) {
    SafetensorsFile f = good;
    for (auto& [key, tensor] : f.tensors) {
      if (key == name) tensor.set(element, value);
    }
    save_safetensors(file("bad.safetensors"), f.tensors, f.metadata);
    return file("bad.safetensors");
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::string path = with("W1", 7, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(error_of<DataError>([&] { load_model(path); }),
            path + ": parameter W1 holds NaN (element 7)");
  EXPECT_EQ(error_of<DataError>([&] { Trainer::resume(path, data); }),
            path + ": parameter W1 holds NaN (element 7)");
  path = with("b2", 9, -inf);
  EXPECT_EQ(error_of<DataError>([&] { load_model(path); }),
            path + ": parameter b2 holds -inf (element 9)");

  // A batch norm's running statistics are buffers: the same.
  ModelSpec bn = model_from_arch("affine:20 batchnorm relu affine:10", {784}, 10);
  Rng rng(1);
  std::vector<std::pair<std::string, Tensor>> tensors = state_dict(build_model(bn, rng));
  for (auto& [key, tensor] : tensors) {
    if (key.rfind("running_var", 0) == 0) tensor.set(0, inf);
  }
  save_safetensors(file("bn.safetensors"), tensors,
                   {{"format", "nabla-model-1"}, {"model", bn.to_json()}});
  EXPECT_THAT(error_of<DataError>([&] { load_model(file("bn.safetensors")); }),
              ::testing::MatchesRegex(".*: buffer running_var[0-9]+ holds inf \\(element 0\\)"));
}

TEST_F(TrainFiles, FileWithoutNablaMetadata) {
  save_safetensors(file("plain.safetensors"), {{"W1", Tensor({2, 2})}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(file("plain.safetensors")); }),
            file("plain.safetensors") + ": not a nabla model file (metadata 'format' missing)");

  save_safetensors(file("other.safetensors"), {{"W1", Tensor({2, 2})}}, {{"format", "pt"}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(file("other.safetensors")); }),
            file("other.safetensors") + ": unknown model format 'pt'");

  save_safetensors(file("nomodel.safetensors"), {{"W1", Tensor({2, 2})}},
                   {{"format", "nabla-model-1"}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(file("nomodel.safetensors")); }),
            file("nomodel.safetensors") + ": not a nabla model file (metadata 'model' missing)");

  ModelSpec bad;
  bad.kind = "cnn";
  save_safetensors(file("cnn.safetensors"), {{"W1", Tensor({2, 2})}},
                   {{"format", "nabla-model-1"}, {"model", bad.to_json()}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(file("cnn.safetensors")); }),
            file("cnn.safetensors") +
                ": model 'cnn' is not one of two-layer-net, mlp, linear, simple-convnet, "
                "deep-convnet, arch, window-tagger");
}

}  // namespace
}  // namespace nabla
