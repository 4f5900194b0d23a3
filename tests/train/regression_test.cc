// Regression in the Trainer: rows with real-valued targets (DenseData::regression), their
// RMSE as the metric (lower is better, for the best model and early stopping), and a
// linear model fitted with the mean squared error against the closed-form least-squares
// fit computed here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/ops/ops.h"
#include "nabla/train/run.h"
#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

// y = 1.5 x1 - 2 x2 + 0.5 x3 + 0.3 + N(0, 0.1^2), x ~ U(-1, 1): n rows from Rng(seed).
void linear_rows(std::int64_t n, std::uint64_t seed, Tensor& x, Tensor& y) {
  Rng rng(seed);
  std::vector<double> xs, ys;
  for (std::int64_t i = 0; i < n; ++i) {
    double t = 0.3;
    const double w[3] = {1.5, -2.0, 0.5};
    for (double wk : w) {
      const double v = 2 * rng.uniform() - 1;
      xs.push_back(v);
      t += wk * v;
    }
    ys.push_back(t + 0.1 * rng.normal());
  }
  x = Tensor::from({n, 3}, xs, DType::f32);
  y = Tensor::from({n, 1}, ys, DType::f32);
}

DenseData linear_data() {
  DenseData d;
  d.classes = 1;
  linear_rows(400, 1, d.train_x, d.train_targets);
  linear_rows(100, 2, d.test_x, d.test_targets);
  return d;
}

TrainConfig linear_config(std::int64_t epochs) {
  TrainConfig c;
  c.model = model_preset("linear", {3}, 1);  // (one output: the mse loss)
  EXPECT_EQ(c.model.loss, "mse");
  c.batch = 20;
  c.epochs = epochs;
  c.optimizer = "adam";
  c.lr = 0.05;
  c.lr_schedule = "cosine";
  return c;
}

// The least-squares fit of y on [x, 1] (normal equations, solved by Gaussian elimination
// in double), and the RMSE of a weight vector on rows.
std::vector<double> least_squares(const Tensor& x, const Tensor& y) {
  const std::int64_t n = x.size(0), d = x.size(1) + 1;
  std::vector<std::vector<double>> a(static_cast<std::size_t>(d), std::vector<double>(d + 1, 0));
  for (std::int64_t r = 0; r < n; ++r) {
    std::vector<double> row;
    for (std::int64_t k = 0; k + 1 < d; ++k) row.push_back(x.get(r * (d - 1) + k));
    row.push_back(1.0);
    for (std::int64_t i = 0; i < d; ++i) {
      for (std::int64_t j = 0; j < d; ++j) a[i][j] += row[i] * row[j];
      a[i][d] += row[i] * y.get(r);
    }
  }
  for (std::int64_t c = 0; c < d; ++c) {
    for (std::int64_t r = 0; r < d; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (std::int64_t k = c; k <= d; ++k) a[r][k] -= f * a[c][k];
    }
  }
  std::vector<double> w;
  for (std::int64_t i = 0; i < d; ++i) w.push_back(a[i][d] / a[i][i]);
  return w;
}

double rmse_of(const std::vector<double>& w, const Tensor& x, const Tensor& y) {
  const std::int64_t n = x.size(0), d = x.size(1);
  double squares = 0;
  for (std::int64_t r = 0; r < n; ++r) {
    double p = w[static_cast<std::size_t>(d)];
    for (std::int64_t k = 0; k < d; ++k) p += w[static_cast<std::size_t>(k)] * x.get(r * d + k);
    squares += (p - y.get(r)) * (p - y.get(r));
  }
  return std::sqrt(squares / static_cast<double>(n));
}

TEST(RegressionErrors, RmseAndMaeOfWorkedValues) {
  RegressionErrors e;
  EXPECT_EQ(e.rmse(), 0.0);
  // errors 1, -2 then 2: RMSE sqrt(9 / 3), MAE 5 / 3
  e.add(Tensor::from({2, 1}, {1.0, 0.0}), Tensor::from({2, 1}, {0.0, 2.0}));
  e.add(Tensor::from({1, 1}, {3.0}, DType::f32), Tensor::from({1, 1}, {1.0}, DType::f32));
  EXPECT_EQ(e.count(), 3);
  EXPECT_DOUBLE_EQ(e.rmse(), std::sqrt(3.0));
  EXPECT_DOUBLE_EQ(e.mae(), 5.0 / 3);
  EXPECT_THAT(testing_util::error_of<ShapeError>([&] {
                e.add(Tensor::from({2, 1}, {1, 2}), Tensor::from({1, 2}, {1, 2}));
              }),
              HasSubstr("predictions (2,1) and targets (1,2)"));
}

TEST(RegressionData, BatchesCarryTheTargetsOfTheirRows) {
  // the target of each row is 10 times its feature: any row's pairing can be checked
  DenseData d;
  d.classes = 1;
  std::vector<double> xs, ys;
  for (int i = 0; i < 30; ++i) {
    xs.push_back(i);
    ys.push_back(10.0 * i);
  }
  d.train_x = Tensor::from({30, 1}, xs, DType::f32);
  d.train_targets = Tensor::from({30, 1}, ys, DType::f32);
  d.test_x = Tensor::from({2, 1}, {1, 2}, DType::f32);
  d.test_targets = Tensor::from({2, 1}, {10, 20}, DType::f32);
  auto data = dense_training_data(d, HoldOut{0.2, 3});
  EXPECT_TRUE(data->regression());
  EXPECT_FALSE(data->higher_is_better());
  EXPECT_EQ(data->metric_key(), "rmse");
  EXPECT_EQ(data->size(Split::validation), 6);
  EXPECT_EQ(data->size(Split::train), 24);
  const Batch& b = data->batch({0, 5, 23}, InputForm::dense, {1});
  EXPECT_TRUE(b.labels.empty());
  ASSERT_EQ(b.targets.shape(), (Shape{3, 1}));
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ(b.targets.get(i), 10 * b.dense.get(i));
  for (Split split : {Split::train, Split::validation, Split::test}) {
    data->for_each_block(split, InputForm::dense, {1}, [](const Batch& block) {
      for (std::int64_t i = 0; i < block.dense.size(0); ++i) {
        EXPECT_EQ(block.targets.get(i), 10 * block.dense.get(i));
      }
    });
    // a model predicting 10 x exactly scores RMSE 0; one predicting 0, sqrt(mean(y^2))
    EXPECT_EQ(data->score(split, InputForm::dense, {1},
                          [](const Batch& block) { return scale(block.dense, 10.0); }),
              0.0);
  }
  d.test_targets = Tensor::from({3, 1}, {1, 2, 3}, DType::f32);
  EXPECT_THROW(dense_training_data(d), ShapeError);
}

TEST(Regression, LinearModelReachesTheLeastSquaresFit) {
  const DenseData d = linear_data();
  const std::vector<double> w = least_squares(d.train_x, d.train_targets);
  const double best_train = rmse_of(w, d.train_x, d.train_targets);
  const double best_test = rmse_of(w, d.test_x, d.test_targets);
  ASSERT_NEAR(best_test, 0.1, 0.03);  // (the noise: the closed form is right)
  Trainer trainer(linear_config(60), d);
  const double first = trainer.evaluate().test_acc;
  while (!trainer.done()) trainer.step();
  const Evaluation e = trainer.evaluate();
  EXPECT_GT(first, 1.0);  // the untrained model's RMSE
  // the fitted line is the least-squares one: its RMSEs within 1% of the closed form's
  EXPECT_LE(e.train_acc, best_train * 1.01);
  EXPECT_GE(e.train_acc, best_train * (1 - 1e-6));  // (nothing beats least squares)
  EXPECT_NEAR(e.test_acc, best_test, 0.01 * best_test);
  const RegressionErrors errors = evaluate_regression(trainer.model(), d.test_x, d.test_targets);
  EXPECT_DOUBLE_EQ(errors.rmse(), e.test_acc);
  EXPECT_LT(errors.mae(), errors.rmse());
  EXPECT_GT(errors.mae(), 0.5 * errors.rmse());
}

TEST(Regression, LossAndDataMustAgree) {
  TrainConfig c = linear_config(1);
  c.model = model_preset("linear", {3}, 2);
  EXPECT_EQ(c.model.loss, "softmax");
  c.model.loss = "svm";
  c.model.classes = 1;
  EXPECT_THROW(c.model.check(), ValueError);  // a classifier needs 2 classes
  c.model.loss = "softmax";
  c.model.classes = 1;  // (a classifier's loss with the regression's one output)
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { Trainer t(c, linear_data()); }),
              HasSubstr("needs the mse loss"));
  DenseData labelled;
  labelled.classes = 2;
  labelled.train_x = Tensor::from({2, 3}, {0, 0, 0, 1, 1, 1}, DType::f32);
  labelled.test_x = labelled.train_x;
  labelled.train_labels = labelled.test_labels = {0, 1};
  TrainConfig mse = linear_config(1);
  mse.batch = 2;
  mse.model.classes = 2;
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { Trainer t(mse, labelled); }),
              HasSubstr("the mse loss is a regression's"));
}

TEST(EarlyStoppingLowerIsBetter, StopsWhenTheErrorStopsFalling) {
  // a constructed RMSE curve: best 0.4 at the third evaluation, then two not lower
  EarlyStopping stop(2, /*higher_is_better=*/false);
  std::vector<bool> said;
  for (double v : {0.9, 0.5, 0.4, 0.45, 0.4, 0.3}) said.push_back(stop.update(v));
  EXPECT_EQ(said, (std::vector<bool>{false, false, false, false, true, false}));
  EXPECT_TRUE(EarlyStopping::better(0.3, 0.4, false));
  EXPECT_FALSE(EarlyStopping::better(0.3, 0.4, true));
}

class RegressionRun : public testing_util::TempDirTest {};

class Quiet : public RunObserver {};

TEST_F(RegressionRun, BestModelHasTheLowestValidationRmse) {
  TrainConfig config = linear_config(0);
  config.iters = 200;  // 16 iterations an epoch: 13 evaluations
  config.lr_schedule = "constant";
  config.lr = 0.3;  // (high: the validation RMSE wanders, so the best is not the last)
  config.validation = 0.2;
  auto data = dense_training_data(linear_data(), HoldOut{config.validation, config.seed});
  Trainer trainer(config, data);
  RunOptions options;
  options.dir = dir_ / "r";
  Quiet quiet;
  const RunResult r = run_training(trainer, options, quiet);
  std::ifstream in(r.dir / "metrics.csv");
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "iteration,loss,train_rmse,validation_rmse,test_rmse,seconds");
  // the lowest validation RMSE of the log is the best evaluation's
  double lowest = std::numeric_limits<double>::infinity();
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');) fields.push_back(f);
    if (fields.size() == 6 && !fields[3].empty()) lowest = std::min(lowest, std::stod(fields[3]));
  }
  ASSERT_TRUE(r.best_eval.has_value());
  EXPECT_NEAR(*r.best_eval->validation_acc, lowest, 1e-5 * lowest);
  EXPECT_LT(*r.best_eval->validation_acc, 0.2);
  Trainer best =
      Trainer::resume(r.best_model.string(),
                      dense_training_data(linear_data(), HoldOut{config.validation, config.seed}));
  EXPECT_EQ(best.evaluate().validation_acc, r.best_eval->validation_acc);
}

}  // namespace
}  // namespace nabla
