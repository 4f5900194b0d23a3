// `nabla train --task regression`, `nabla eval` and `nabla predict` on the wave data set
// (corpora/wave: y = sin(2 x1) + 0.5 x2 - 0.25 x3^2 + noise of 0.1), run as a user would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Result = testing_util::CommandResult;

const std::string kWave = std::string(NABLA_SOURCE_DIR) + "/corpora/wave/";

Result run(const std::string& args) { return testing_util::run_nabla(args); }

// The numbers of train's final line: "final: train rmse, validation rmse, test rmse | a, b, c".
std::vector<double> final_numbers(const std::string& out) {
  std::smatch m;
  static const std::regex line(
      "final: train rmse, validation rmse, test rmse \\| ([0-9.]+), ([0-9.]+), ([0-9.]+)");
  if (!std::regex_search(out, m, line)) return {};
  return {std::stod(m[1].str()), std::stod(m[2].str()), std::stod(m[3].str())};
}

class RegressionCli : public testing_util::TempDirTest {
 protected:
  std::string train_args() const {
    return "train --task regression --data " + kWave + "wave.train.csv --test-data " + kWave +
           "wave.test.csv --model mlp --hidden 30 --optimizer adam --lr 0.01 --batch 20 "
           "--validation 0.2 ";
  }
};

TEST_F(RegressionCli, TrainEvalAndPredictAWave) {
  const std::string out = (dir_ / "run").string();
  const Result r = run(train_args() + "--epochs 60 --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("600 training rows, 200 test rows from"));
  EXPECT_THAT(r.out, HasSubstr("3 features, a real-valued target (regression)"));
  EXPECT_THAT(r.out, HasSubstr("mlp 3-30-1 relu, mse loss"));
  EXPECT_THAT(r.out, HasSubstr("best validation rmse "));
  const std::vector<double> final = final_numbers(r.out);
  ASSERT_EQ(final.size(), 3u) << r.out;
  // it bends: far below the least-squares line's 0.706, towards the noise's 0.108
  EXPECT_LT(final[2], 0.3) << r.out;
  EXPECT_GT(final[2], 0.09);

  // eval reports the test RMSE that training did, and the MAE beside it
  const Result e =
      run("eval --model " + out + "/model.safetensors --data " + kWave + "wave.test.csv --json");
  ASSERT_EQ(e.status, 0) << e.out;
  const nlohmann::json j = nlohmann::json::parse(e.out);
  EXPECT_NEAR(j.at("test_rmse").get<double>(), final[2], 1e-4);
  EXPECT_LT(j.at("test_mae").get<double>(), j.at("test_rmse").get<double>());
  EXPECT_EQ(j.at("test_size").get<int>(), 200);
  EXPECT_FALSE(j.contains("test_acc"));
  const Result text =
      run("eval --model " + out + "/model.safetensors --data " + kWave + "wave.test.csv");
  EXPECT_THAT(text.out, HasSubstr("test rmse, mae | "));

  // predict prints a value a row, beside the target when the row has one
  const Result p =
      run("predict --model " + out + "/model.safetensors --data " + kWave + "wave.test.csv --json");
  ASSERT_EQ(p.status, 0) << p.out;
  const nlohmann::json predictions = nlohmann::json::parse(p.out).at("predictions");
  ASSERT_EQ(predictions.size(), 200u);
  double squares = 0;
  for (const auto& q : predictions) {
    const double d = q.at("value").get<double>() - q.at("target").get<double>();
    squares += d * d;
  }
  EXPECT_NEAR(std::sqrt(squares / 200), final[2], 1e-4);
  // rows of the features alone: the same values, without targets
  std::ofstream(dir_ / "x.csv") << "x1,x2,x3\n0.5,-1,1.5\n";
  std::ofstream(dir_ / "yx.csv") << "y,x1,x2,x3\n7,0.5,-1,1.5\n";
  const Result alone =
      run("predict --model " + out + "/model.safetensors --data " + (dir_ / "x.csv").string());
  const Result with =
      run("predict --model " + out + "/model.safetensors --data " + (dir_ / "yx.csv").string());
  ASSERT_EQ(alone.status, 0) << alone.out;
  ASSERT_EQ(with.status, 0) << with.out;
  EXPECT_THAT(with.out, HasSubstr("(target 7)"));
  const std::string value = alone.out.substr(alone.out.find(": ") + 2);
  EXPECT_THAT(with.out, HasSubstr(": " + value.substr(0, value.find('\n')) + " (target 7)"));

  // a resumed run reads the data as a regression's again (from the checkpoint's loss)
  const Result more =
      run("train --resume " + out + "/model.safetensors --epochs 61 --data " + kWave +
          "wave.train.csv --test-data " + kWave + "wave.test.csv --out " + out);
  ASSERT_EQ(more.status, 0) << more.out;
  EXPECT_EQ(final_numbers(more.out).size(), 3u) << more.out;
}

TEST_F(RegressionCli, MisusesAreUsageErrors) {
  const Result svm = run(train_args() + "--loss svm --iters 1 --out " + (dir_ / "a").string());
  EXPECT_EQ(svm.status, 2);
  EXPECT_THAT(svm.out, HasSubstr("a regression is fitted with the mean squared error"));
  const Result mnist = run("train --task regression --data " + dir_.string() + " --iters 1");
  EXPECT_EQ(mnist.status, 2);
  EXPECT_THAT(mnist.out, HasSubstr("--task regression trains on a CSV file"));
  // a target that is not a number is named with its line
  std::ofstream(dir_ / "bad.csv") << "y,x\n1.5,2\nabc,3\n";
  const Result bad = run("train --task regression --data " + (dir_ / "bad.csv").string() +
                         " --iters 1 --out " + (dir_ / "b").string());
  EXPECT_NE(bad.status, 0);
  EXPECT_THAT(bad.out, HasSubstr("bad.csv:3: field 1 'abc' is not a finite number"));
  // a regression model takes CSV rows, not images
  const Result trained = run(train_args() + "--iters 5 --out " + (dir_ / "c").string());
  ASSERT_EQ(trained.status, 0) << trained.out;
  const Result eval_mnist =
      run("eval --model " + (dir_ / "c/model.safetensors").string() + " --data " + dir_.string());
  EXPECT_EQ(eval_mnist.status, 2);
  EXPECT_THAT(eval_mnist.out, HasSubstr("is a regression model"));
  const Result predict_index =
      run("predict --model " + (dir_ / "c/model.safetensors").string() + " --index 3");
  EXPECT_EQ(predict_index.status, 2);
}

}  // namespace
}  // namespace nabla
