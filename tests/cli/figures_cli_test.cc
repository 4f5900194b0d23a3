// The commands' figures, and the numbers behind them: k-NN's accuracy against k, a
// linear classifier's templates, loss slices, optimizer paths, every example's --dot.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using Result = testing_util::CommandResult;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// The rows of a CSV file with a header, as numbers (a first column that is not a number
// is skipped).
std::vector<std::vector<double>> csv_numbers(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) {
      if (!cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) || cell[0] == '-')) {
        row.push_back(std::stod(cell));
      }
    }
    rows.push_back(row);
  }
  return rows;
}

class FiguresCli : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    testing_util::write_small_mnist(dir_ / "mnist", 60, 20);
  }
  std::string data() const { return (dir_ / "mnist").string(); }
};

TEST_F(FiguresCli, KnnDrawsEachFoldAndTheMeanWithItsSpread) {
  const std::filesystem::path out = dir_ / "knn";
  Result r = testing_util::run_nabla("knn --data " + data() + " --k 1,3,9 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("accuracy against k written to " + (out / "knn_cv.svg").string()));
  const auto rows = csv_numbers(out / "knn_cv.csv");
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 3u + 5u);  // k, mean, std, five folds
    double mean = 0, var = 0;
    for (std::size_t f = 3; f < 8; ++f) mean += row[f] / 5;
    for (std::size_t f = 3; f < 8; ++f) var += (row[f] - mean) * (row[f] - mean) / 5;
    EXPECT_NEAR(row[1], mean, 1e-9);
    EXPECT_NEAR(row[2], std::sqrt(var), 1e-9);  // (the spread of the folds: over n)
    // ... and the printed line says the same numbers
    char line[64];
    std::snprintf(line, sizeof line, "cv acc | %.4f +- %.4f", row[1], row[2]);
    EXPECT_THAT(r.out, HasSubstr(line));
  }
  const std::string svg = read_text(out / "knn_cv.svg");
  EXPECT_THAT(svg, HasSubstr("k (neighbours that vote)"));
  EXPECT_THAT(svg, HasSubstr("mean ± std over the folds"));
  // a bar where the folds disagree; 15 fold points and 3 means
  std::size_t spread = 0;
  for (const auto& row : rows) spread += row[2] > 0;
  EXPECT_EQ(count(svg, "class='error-bar'"), spread);
  EXPECT_EQ(count(svg, "<circle"), 15u + 3u);
}

TEST_F(FiguresCli, LinearTrainingDrawsOneTemplatePerClassAndSlicesItsLoss) {
  const std::filesystem::path run = dir_ / "linear";
  Result r = testing_util::run_nabla("train --model linear --loss svm --iters 60 --batch 20 --data " + data() +
                                     " --out " + run.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("weight templates (one image per class) written to " +
                               (run / "templates.svg").string()));
  const std::string templates = read_text(run / "templates.svg");
  for (int c = 0; c < 10; ++c) EXPECT_THAT(templates, HasSubstr(">class " + std::to_string(c) + "<"));
  EXPECT_THAT(templates, HasSubstr("width='2400' height='640'"));  // 5 a row, 2 rows
  EXPECT_GE(count(templates, "<rect"), 10u * 784);

  // The SVM loss around it. The hinge loss of a linear model is convex in its weights:
  // the centre (the model) is at most the mean of any two points opposite it, on the line
  // and on the plane; three steps of the weights' own size away it has risen.
  r = testing_util::run_nabla("landscape --model " + (run / "model.safetensors").string() +
                              " --data " + data() + " --size 40 --points 5 --radius 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("loss slices written to " + (run / "landscape.svg").string()));
  const auto rows = csv_numbers(run / "landscape.csv");
  ASSERT_EQ(rows.size(), 25u);
  std::map<std::pair<double, double>, double> loss;
  for (const auto& row : rows) loss[{row[0], row[1]}] = row[2];
  const double centre = loss.at({0.0, 0.0});
  char at_model[64];
  std::snprintf(at_model, sizeof at_model, "%.6f at the model", centre);
  EXPECT_THAT(r.out, HasSubstr(at_model));
  double highest = centre;
  for (const auto& [ab, value] : loss) {
    const double opposite = loss.at({-ab.first, -ab.second});
    EXPECT_LE(centre, (value + opposite) / 2 + 1e-9) << ab.first << ", " << ab.second;
    highest = std::max(highest, value);
  }
  EXPECT_GT(highest, centre + 0.1);
  const std::string svg = read_text(run / "landscape.svg");
  EXPECT_THAT(svg, HasSubstr("2-D slice: SVM loss"));
  EXPECT_THAT(svg, HasSubstr("trained model (0, 0)"));
}

TEST_F(FiguresCli, OptimizerPathsStartWithTheTextbooksSteps) {
  const std::filesystem::path out = dir_ / "opt";
  Result r = testing_util::run_nabla("optimizers --steps 30 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("descent paths written to " + (out / "optimizers.svg").string()));
  // optimizer (skipped), lr, step, x, y, f: step 1 of each, from (-7, 2), gradient (-0.7, 4)
  const auto rows = csv_numbers(out / "paths.csv");
  ASSERT_EQ(rows.size(), 4u * 31);
  const double first[4][2] = {{-7 + 0.95 * 0.7, 2 - 0.95 * 4},  // SGD lr 0.95
                              {-7 + 0.07, 2 - 0.4},             // Momentum lr 0.1
                              {-7 + 1.5, 2 - 1.5},              // AdaGrad lr 1.5
                              {-7 + 0.3, 2 - 0.3}};             // Adam lr 0.3
  for (int k = 0; k < 4; ++k) {
    const auto& row = rows[static_cast<std::size_t>(k * 31 + 1)];
    EXPECT_EQ(row[1], 1);
    EXPECT_NEAR(row[2], first[k][0], 1e-5) << k;
    EXPECT_NEAR(row[3], first[k][1], 1e-5) << k;
    // every optimizer ends nearer the minimum (0, 0) than it started (f(-7, 2) = 6.45)
    EXPECT_LT(rows[static_cast<std::size_t>(k * 31 + 30)][4], 6.45) << k;
  }
  const std::string svg = read_text(out / "optimizers.svg");
  for (const char* name : {"sgd", "momentum", "adagrad", "adam"}) {
    EXPECT_THAT(svg, HasSubstr(std::string(">") + name + " (lr")) << name;
  }
}

TEST(ExamplesDot, EveryExampleDrawsItsGraph) {
  Result list = testing_util::run_nabla("example --list");
  ASSERT_EQ(list.status, 0);
  std::stringstream lines(list.out);
  std::string line;
  int examples = 0;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));
    if (name.empty()) continue;
    ++examples;
    Result r = testing_util::run_nabla("example " + name + " --dot /dev/stdout");
    EXPECT_EQ(r.status, 0) << name << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("digraph")) << name;
  }
  EXPECT_GE(examples, 24);  // (all of them: 24 today)
  // the mul node of the backprop chapter: upstream 1.3 -> 6.5 and 13
  Result mul = testing_util::run_nabla("example mul-node --dot /dev/stdout");
  EXPECT_THAT(mul.out, HasSubstr("x | value 10 | grad 6.5"));
  EXPECT_THAT(mul.out, HasSubstr("y | value 5 | grad 13"));
}

}  // namespace
}  // namespace nabla
