// `nabla train`, `nabla eval` and `nabla predict` run as a user would, on a tiny
// synthetic MNIST (600 training and 200 test images of 28 x 28) written to a temporary
// directory: the run directory, accuracy reported the same by train and eval, resume,
// and a clear message and a non-zero exit for each kind of bad input.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "nabla/core/cpu.h"
#include "nabla/core/safetensors.h"
#include "nabla/data/idx.h"
#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using Result = testing_util::CommandResult;
using testing_util::run_command;

// Runs `nabla ARGS`; `prefix` goes before it (e.g. "cd DIR && NABLA_DATA=...").
Result run(const std::string& args, const std::string& prefix = "") {
  return testing_util::run_nabla(args, prefix);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// The iterations of train's evaluation lines ("iteration 7: train acc, test acc | a, x").
std::vector<int> evaluation_iterations(const std::string& out) {
  static const std::regex line(R"(iteration (\d+): train acc, test acc \| [0-9.]+, [0-9.]+\n)");
  std::vector<int> iterations;
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
    iterations.push_back(std::stoi((*it)[1]));
  }
  return iterations;
}

// The "a, x" of train's "final: train acc, test acc | a, x" line.
std::smatch final_line(const std::string& out) {
  static const std::regex line(R"(final: train acc, test acc \| ([0-9.]+), ([0-9.]+)\n)");
  std::smatch m;
  std::regex_search(out, m, line);
  return m;
}

// Class c: a bright band on rows 4 + 2c and 5 + 2c, over dim noise.
IdxArray images(std::int64_t n, std::uint64_t seed, ByteBuffer& labels) {
  IdxArray a{{n, 28, 28}, {}};
  Rng rng(seed);
  labels.clear();
  for (std::int64_t i = 0; i < n; ++i) {
    auto c = static_cast<std::uint8_t>(rng.below(10));
    labels.push_back(c);
    for (std::int64_t y = 0; y < 28; ++y) {
      for (std::int64_t x = 0; x < 28; ++x) {
        bool band = y == 4 + 2 * c || y == 5 + 2 * c;
        std::int64_t v = (x == 0 || y == 0 || x == 27 || y == 27) ? 0 : rng.below(40);
        if (band && x > 1 && x < 26) v += 215;
        a.data.push_back(static_cast<std::uint8_t>(v));
      }
    }
  }
  return a;
}

void write_mnist(const fs::path& dir) {
  fs::create_directories(dir);
  ByteBuffer labels;
  write_idx((dir / "train-images-idx3-ubyte").string(), images(600, 1, labels));
  write_idx((dir / "train-labels-idx1-ubyte").string(), IdxArray{{600}, labels});
  write_idx((dir / "t10k-images-idx3-ubyte").string(), images(200, 2, labels));
  write_idx((dir / "t10k-labels-idx1-ubyte").string(), IdxArray{{200}, labels});
}

// One data set and one 50-iteration run for the whole suite; each test may add its own
// directories under dir_.
class TrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new testing_util::ScopedTempDir("train_cli_test");
    root_ = temp_->path();
    write_mnist(root_ / "mnist");
    first_ = run("train --iters 50 --data " + data() + " --out " + (root_ / "run").string());
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }
  void SetUp() override {
    dir_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }

  static std::string data() { return (root_ / "mnist").string(); }
  static std::string model() { return (root_ / "run" / "model.safetensors").string(); }
  // A copy of the data set in dir_ / "mnist", to damage.
  std::string data_copy() const {
    fs::copy(root_ / "mnist", dir_ / "mnist");
    return (dir_ / "mnist").string();
  }

  static testing_util::ScopedTempDir* temp_;
  static fs::path root_;
  static Result first_;
  fs::path dir_;
};

testing_util::ScopedTempDir* TrainCli::temp_ = nullptr;
fs::path TrainCli::root_;
Result TrainCli::first_;

// ---- a run and its directory ----------------------------------------------------------

TEST_F(TrainCli, TrainPrintsTheTextbookLines) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  const std::string& out = first_.out;
  EXPECT_THAT(out, HasSubstr("model two-layer-net 784-50-10 relu, softmax loss; sgd lr 0.1, "
                             "batch 100, 50 iterations (6 per epoch), seed 42\n"));
  EXPECT_THAT(out, HasSubstr("600 training, 200 test images"));
  // Evaluations after iterations 1, 7, ..., 49 (i % 6 == 0), each line saying which (as
  // metrics.csv does), then the final one.
  EXPECT_THAT(evaluation_iterations(out), ::testing::ElementsAre(1, 7, 13, 19, 25, 31, 37, 43, 49));
  EXPECT_TRUE(final_line(out).size() == 3) << out;
  // In a pipe: plain lines, no progress bar.
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST_F(TrainCli, RunDirectoryHoldsMetricsCurvesAndModel) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  std::string csv = read_file(root_ / "run" / "metrics.csv");
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "iteration,loss,train_acc,test_acc,seconds");
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  ASSERT_GE(rows.size(), 50u);
  EXPECT_THAT(rows[0], ::testing::StartsWith("1,"));  // evaluated: all five columns
  EXPECT_EQ(std::count(rows[0].begin(), rows[0].end(), ','), 4);
  EXPECT_THAT(rows[1], ::testing::MatchesRegex("2,[0-9.e-]+,,,"));  // loss only
  EXPECT_THAT(rows[49], ::testing::StartsWith("50,"));
  std::size_t evaluated = 0;
  for (const std::string& row : rows) evaluated += row.find(",,,") == std::string::npos;
  EXPECT_EQ(evaluated, 10u);  // 9 per epoch and the final one

  std::string svg = read_file(root_ / "run" / "curves.svg");
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_GE(count(svg, "<polyline"), 3u);  // loss, train acc, test acc
  EXPECT_THAT(svg, HasSubstr("test acc"));

  EXPECT_TRUE(fs::exists(model()));
  EXPECT_FALSE(fs::exists(model() + ".tmp"));
  SafetensorsFile f = load_safetensors(model());
  EXPECT_EQ(f.metadata.at("iteration"), "50");
  EXPECT_EQ(f.tensors.at(0).first, "W1");
}

TEST_F(TrainCli, EvalPrintsTheAccuracyTrainingReported) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  std::smatch m = final_line(first_.out);
  ASSERT_EQ(m.size(), 3u) << first_.out;
  Result r = run("eval --model " + model() + " --data " + data() + " --train");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("model two-layer-net 784-50-10 relu, softmax loss (50 iterations)"));
  EXPECT_THAT(r.out, HasSubstr("\ntest acc | " + m[2].str() + "\n"));
  EXPECT_THAT(r.out, HasSubstr("\ntrain acc | " + m[1].str() + "\n"));
  // The synthetic digits are easy: 50 iterations of the recipe learn them.
  EXPECT_GT(std::stod(m[2].str()), 0.8);  // 0.94 when written; chance is 0.1
}

TEST_F(TrainCli, PredictByIndexAndFromAPicture) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  Result r = run("predict --model " + model() + " --index 0,1 --data " + data());
  EXPECT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(r.out, m, std::regex(R"(test image 0: class (\d) \(label (\d)\)\n)")))
      << r.out;
  EXPECT_EQ(m[1], m[2]);  // the easy digits are classified right
  EXPECT_THAT(r.out, HasSubstr("test image 1: class "));
  EXPECT_EQ(count(r.out, "probabilities:"), 2u);
  EXPECT_THAT(r.out, HasSubstr(" 9:"));

  // Test image 0 written as a PGM gets the same class and probabilities.
  IdxArray test = read_idx((root_ / "mnist" / "t10k-images-idx3-ubyte").string());
  std::string pgm = "P5\n28 28\n255\n";
  pgm.append(test.data.begin(), test.data.begin() + 784);
  std::ofstream((dir_ / "digit.pgm").string(), std::ios::binary) << pgm;
  Result p = run("predict --model " + model() + " " + (dir_ / "digit.pgm").string());
  EXPECT_EQ(p.status, 0) << p.out;
  std::string probabilities = r.out.substr(r.out.find("probabilities:"));
  probabilities = probabilities.substr(0, probabilities.find('\n'));
  EXPECT_THAT(p.out, HasSubstr((dir_ / "digit.pgm").string() + ": class " + m[1].str() + "\n"));
  EXPECT_THAT(p.out, HasSubstr(probabilities));

  Result none = run("predict --model " + model());
  EXPECT_NE(none.status, 0);
  EXPECT_THAT(none.out, HasSubstr("give image files or --index N"));
  Result bad = run("predict --model " + model() + " " + (dir_ / "missing.png").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.out, HasSubstr((dir_ / "missing.png").string() + ": cannot open"));
}

TEST_F(TrainCli, ResumedRunMatchesAnUninterruptedOne) {
  std::string part = (dir_ / "part").string(), whole = (dir_ / "whole").string();
  for (const char* sampling : {"replacement", "shuffle"}) {
    std::string common = " --data " + data() + " --optimizer momentum --sampling " + sampling;
    Result a = run("train --iters 10" + common + " --out " + part);
    ASSERT_EQ(a.status, 0) << a.out;
    Result b = run("train --resume " + part + "/model.safetensors --iters 25 --data " + data() +
                   " --out " + part);
    ASSERT_EQ(b.status, 0) << b.out;
    EXPECT_THAT(b.out, HasSubstr("resumed from " + part + "/model.safetensors at iteration 10"));
    EXPECT_THAT(b.out, HasSubstr("25 iterations"));
    Result c = run("train --iters 25" + common + " --out " + whole);
    ASSERT_EQ(c.status, 0) << c.out;
    EXPECT_EQ(final_line(b.out).str(), final_line(c.out).str());

    SafetensorsFile resumed = load_safetensors(part + "/model.safetensors");
    SafetensorsFile straight = load_safetensors(whole + "/model.safetensors");
    EXPECT_EQ(resumed.metadata.at("iteration"), "25");
    ASSERT_EQ(resumed.tensors.size(), straight.tensors.size());
    for (std::size_t k = 0; k < resumed.tensors.size(); ++k) {
      const Tensor& x = resumed.tensors[k].second;
      const Tensor& y = straight.tensors[k].second;
      EXPECT_EQ(resumed.tensors[k].first, straight.tensors[k].first);
      EXPECT_TRUE(x.same_layout(y) && std::memcmp(x.raw(), y.raw(), x.nbytes()) == 0)
          << sampling << ": " << resumed.tensors[k].first;
    }
    // The resumed run appends to the metrics of the first part.
    std::string csv = read_file(fs::path(part) / "metrics.csv");
    EXPECT_EQ(count(csv, "iteration,loss"), 1u);
    EXPECT_THAT(csv, HasSubstr("\n11,"));
    EXPECT_THAT(csv, HasSubstr("\n25,"));
    fs::remove_all(part);
    fs::remove_all(whole);
  }
}

TEST_F(TrainCli, ResumeIntoAnotherDirectory) {
  std::string first = (dir_ / "first").string(), second = (dir_ / "second").string();
  ASSERT_EQ(run("train --iters 6 --data " + data() + " --out " + first).status, 0);
  Result r = run("train --resume " + first + "/model.safetensors --iters 12 --data " + data() +
                 " --out " + second);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string csv = read_file(fs::path(second) / "metrics.csv");
  EXPECT_THAT(csv, ::testing::StartsWith("iteration,loss,train_acc,test_acc,seconds\n7,"));
  EXPECT_THAT(csv, HasSubstr("\n12,"));
  EXPECT_EQ(load_safetensors(second + "/model.safetensors").metadata.at("iteration"), "12");
  EXPECT_EQ(load_safetensors(first + "/model.safetensors").metadata.at("iteration"), "6");
}

// ---- options --------------------------------------------------------------------------

// The suite's images as CSV rows: the label, then each pixel / 255.
void write_csv(const fs::path& path, std::int64_t n, std::uint64_t seed) {
  ByteBuffer labels;
  IdxArray a = images(n, seed, labels);
  std::ofstream out(path);
  out << "label";
  for (int i = 0; i < 784; ++i) out << ",p" << i;
  out << "\n";
  char number[32];
  for (std::int64_t i = 0; i < n; ++i) {
    out << static_cast<int>(labels[static_cast<std::size_t>(i)]);
    for (std::int64_t j = 0; j < 784; ++j) {
      std::snprintf(number, sizeof number, "%.9g",
                    a.data[static_cast<std::size_t>(i * 784 + j)] / 255.0);
      out << ',' << number;
    }
    out << '\n';
  }
}

TEST_F(TrainCli, CsvRowsReachTheAccuracyOfTheSameImagesFromIdx) {
  write_csv(dir_ / "train.csv", 600, 1);  // the rows of write_mnist's files
  write_csv(dir_ / "test.csv", 200, 2);
  Result r = run("train --iters 50 --data " + (dir_ / "train.csv").string() + " --test-data " +
                 (dir_ / "test.csv").string() + " --out " + (dir_ / "run").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(": 600 training rows, 200 test rows from "));
  std::smatch csv = final_line(r.out), idx = final_line(first_.out);
  ASSERT_FALSE(csv.empty()) << r.out;
  ASSERT_FALSE(idx.empty()) << first_.out;
  EXPECT_NEAR(std::stod(csv[2].str()), std::stod(idx[2].str()), 0.01) << r.out;
  EXPECT_GT(std::stod(csv[2].str()), 0.5);

  // without a test file a sixth is held out, and the output says so
  Result held = run("train --iters 20 --data " + (dir_ / "train.csv").string() + " --out " +
                    (dir_ / "held").string());
  ASSERT_EQ(held.status, 0) << held.out;
  EXPECT_THAT(held.out, HasSubstr("500 training rows, 100 test rows (no --test-data: a sixth "
                                  "of the rows held out, seed 42)"));
}

TEST_F(TrainCli, CsvRaggedRowIsRefusedWithItsLine) {
  std::ofstream(dir_ / "bad.csv") << "label,a,b\n1,0.5,0.25\n0,0.5,0.1\n2,0.5\n";
  Result r =
      run("train --data " + (dir_ / "bad.csv").string() + " --out " + (dir_ / "run").string());
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr((dir_ / "bad.csv").string() + ":4: 2 fields; line 2 has 3"));
}

TEST_F(TrainCli, OptionsReachTheModelFile) {
  Result r =
      run("train --epochs 2 --model mlp --hidden 30,20 --activation tanh --optimizer adam "
          "--lr 0.01 --batch 50 --init he --seed 7 --sampling shuffle --reg 0.001 "
          "--data " +
          data() + " --out " + dir_.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("model mlp 784-30-20-10 tanh, softmax loss; adam lr 0.01, batch "
                               "50, 24 iterations (12 per epoch), seed 7\n"));
  EXPECT_THAT(evaluation_iterations(r.out), ::testing::ElementsAre(1, 13));
  LoadedModel m = load_model((dir_ / "model.safetensors").string());
  EXPECT_EQ(m.spec.describe(), "mlp 784-30-20-10 tanh, softmax loss");
  EXPECT_EQ(m.spec.init, Init::he);
  TrainConfig c = TrainConfig::from_json(m.metadata.at("train"));
  EXPECT_EQ(c.sampling, Sampling::shuffled_epochs);
  EXPECT_EQ(c.optimizer, "adam");
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.reg, 0.001);
  EXPECT_EQ(c.batch, 50);
  EXPECT_EQ(c.epochs, 2);
}

TEST_F(TrainCli, SameSeedSameNumbers) {
  std::string args = "train --iters 12 --data " + data() + " --out ";
  Result a = run(args + (dir_ / "a").string());
  Result b = run(args + (dir_ / "b").string());
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_EQ(final_line(a.out).str(), final_line(b.out).str());
  SafetensorsFile fa = load_safetensors((dir_ / "a" / "model.safetensors").string());
  SafetensorsFile fb = load_safetensors((dir_ / "b" / "model.safetensors").string());
  const Tensor& wa = fa.tensors.at(0).second;
  const Tensor& wb = fb.tensors.at(0).second;
  EXPECT_EQ(std::memcmp(wa.raw(), wb.raw(), wa.nbytes()), 0);
}

// The first four columns of metrics.csv (the last is wall-clock seconds).
std::string without_seconds(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, kept;
  while (std::getline(in, line)) kept += line.substr(0, line.rfind(',')) + "\n";
  return kept;
}

TEST_F(TrainCli, EvaluationsBesideTrainingChangeNoNumber) {
  // --threads 2 evaluates on a second thread while training goes on; --threads 1 in turn
  std::string args = "train --iters 50 --data " + data() + " --out ";
  Result one = run(args + (dir_ / "one").string() + " --threads 1");
  Result two = run(args + (dir_ / "two").string() + " --threads 2 --timing");
  ASSERT_EQ(one.status, 0) << one.out;
  ASSERT_EQ(two.status, 0) << two.out;
  auto accuracy_lines = [](const std::string& out) {
    std::istringstream in(out);
    std::string line, lines;
    while (std::getline(in, line)) {
      if (line.find("acc |") != std::string::npos) lines += line + "\n";
    }
    return lines;
  };
  EXPECT_EQ(accuracy_lines(two.out), accuracy_lines(one.out));
  EXPECT_EQ(std::count(one.out.begin(), one.out.end(), '|'), 10);  // 9 evaluations and the final
  std::string csv_one = read_file(dir_ / "one" / "metrics.csv");
  std::string csv_two = read_file(dir_ / "two" / "metrics.csv");
  EXPECT_EQ(without_seconds(csv_two), without_seconds(csv_one));
  EXPECT_EQ(std::count(csv_two.begin(), csv_two.end(), '\n'), 1 + 50 + 1);  // header, rows, final
  EXPECT_THAT(two.out, HasSubstr("eval_beside_s="));
  EXPECT_THAT(two.out, HasSubstr("isa=" + std::string(kernel_isa())));
  EXPECT_THAT(one.out, Not(HasSubstr("TIMING")));  // benchmark plumbing, only when asked
}

TEST_F(TrainCli, BadOptionsAreRefused) {
  std::string base = "train --data " + data() + " --out " + dir_.string() + " ";
  Result r = run(base + "--sampling sometimes");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--sampling"));
  r = run(base + "--optimizer lbfgs");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--optimizer"));
  r = run(base + "--iters 10 --epochs 2");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("excludes"));
  r = run(base + "--activation sigmoid --iters 1");
  EXPECT_EQ(r.status, 2);  // options that make no model: a usage error (issue 24)
  EXPECT_THAT(r.out, HasSubstr("two-layer-net has one ReLU hidden layer; use mlp"));
  r = run(base + "--batch 601 --iters 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("batch size 601 must be in [1, 600]"));
}

// ---- convolutional networks --------------------------------------------------------

TEST_F(TrainCli, ConvNetTrainsEvaluatesAndPredicts) {
  const std::string out = (dir_ / "cnn").string();
  // The textbook's CNN with its defaults (adam, lr 0.001) but for the iterations given.
  Result r =
      run("train --model simple-convnet --iters 12 --batch 50 --data " + data() + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("model simple-convnet 1x28x28: conv:30x5 relu maxpool:2 "
                               "affine:100 relu affine:10, softmax loss; adam lr 0.001, batch 50, "
                               "12 iterations"));
  std::smatch m = final_line(r.out);
  ASSERT_EQ(m.size(), 3u) << r.out;
  EXPECT_GT(std::stod(m[2].str()), 0.5);  // the easy bands; chance is 0.1
  Result e = run("eval --model " + out + "/model.safetensors --data " + data());
  EXPECT_EQ(e.status, 0) << e.out;
  EXPECT_THAT(e.out, HasSubstr("\ntest acc | " + m[2].str() + "\n"));
  Result p = run("predict --model " + out + "/model.safetensors --index 3 --data " + data());
  EXPECT_EQ(p.status, 0) << p.out;
  EXPECT_THAT(p.out, HasSubstr("test image 3: class "));
  // Options given win over the model's defaults.
  r =
      run("train --model simple-convnet --optimizer momentum --lr 0.05 --iters 1 --batch 10 "
          "--data " +
          data() + " --out " + (dir_ / "given").string());
  EXPECT_THAT(r.out, HasSubstr("momentum lr 0.05, batch 10, 1 iterations"));
}

TEST_F(TrainCli, ArchWithDropoutResumesBitForBit) {
  const std::string part = (dir_ / "part").string(), whole = (dir_ / "whole").string();
  const std::string common =
      " --arch 'conv:4x5,stride=3 relu maxpool:2 affine:20 relu "
      "dropout:0.3 affine:10' --optimizer adam --lr 0.01 --batch 20 --data " +
      data();
  ASSERT_EQ(run("train --iters 8" + common + " --out " + part).status, 0);
  Result b = run("train --resume " + part + "/model.safetensors --iters 16 --data " + data() +
                 " --out " + part);
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_THAT(b.out, HasSubstr("model arch 1x28x28: conv:4x5,stride=3 relu maxpool:2 affine:20 "
                               "relu dropout:0.3 affine:10"));
  Result c = run("train --iters 16" + common + " --out " + whole);
  ASSERT_EQ(c.status, 0) << c.out;
  EXPECT_EQ(final_line(b.out).str(), final_line(c.out).str());
  SafetensorsFile resumed = load_safetensors(part + "/model.safetensors");
  SafetensorsFile straight = load_safetensors(whole + "/model.safetensors");
  EXPECT_EQ(resumed.metadata.at("model_rngs"), straight.metadata.at("model_rngs"));
  ASSERT_EQ(resumed.tensors.size(), straight.tensors.size());
  for (std::size_t k = 0; k < resumed.tensors.size(); ++k) {
    const Tensor& x = resumed.tensors[k].second;
    const Tensor& y = straight.tensors[k].second;
    EXPECT_TRUE(x.same_layout(y) && std::memcmp(x.raw(), y.raw(), x.nbytes()) == 0)
        << resumed.tensors[k].first;
  }
}

TEST_F(TrainCli, ArchErrorsNameTheToken) {
  std::string base = "train --iters 1 --data " + data() + " --out " + dir_.string() + " ";
  Result r = run(base + "--arch 'conv:30x5 relu maxpool:two affine:10'");
  EXPECT_EQ(r.status, 2);  // a usage error (issue 24, class 10)
  EXPECT_THAT(r.out, HasSubstr("--arch token 3 'maxpool:two': 'two' is not a number"));
  r = run(base + "--arch 'affine:10' --model mlp");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("excludes"));
  r = run(base + "--model deep-convnet --hidden 10");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.out, HasSubstr("--hidden and --activation shape the MLPs"));
  // An arch that starts with an affine layer takes the pixels as rows (the fast path).
  r = run(base + "--arch 'affine:30 tanh affine:10'");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("model arch 784: affine:30 tanh affine:10"));
}

// Issue 24, class 10: the README's grammar ("batchnorm,eps=0.001") trains; an empty
// --arch, a layer written wrong, an --out that is a file or holds another run are usage
// errors (exit 2) found before the data is read (here: data that is not there at all).
TEST_F(TrainCli, UsageErrorsAreFoundBeforeTheData) {
  Result r = run("train --iters 2 --data " + data() + " --out " + (dir_ / "bn").string() +
                 " --arch 'affine:20 batchnorm,eps=0.001 relu affine:10'");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("model arch 784: affine:20 batchnorm:eps=0.001 relu affine:10"));

  const std::string nowhere = "train --iters 2 --data " + (dir_ / "nowhere").string() + " ";
  r = run(nowhere + "--arch ''");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla train: error: --arch is empty: give its layers, e.g. "
                               "--arch \"affine:100 relu affine:10\""));
  // an empty --out or --resume is not "not given" (the harness found `--resume ''` training
  // from scratch, exit 0)
  for (const char* option : {"--out ''", "--resume ''"}) {
    r = run(nowhere + option);
    EXPECT_EQ(r.status, 2) << option << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("must not be an empty path")) << option;
  }
  r = run(nowhere + "--arch '   '");
  EXPECT_EQ(r.status, 2) << r.out;
  r = run(nowhere + "--arch 'affine:10 relu:3'");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--arch token 2 'relu:3': 1 values before the options; relu "
                               "takes 0"));
  EXPECT_THAT(r.out, Not(HasSubstr("nowhere")));
  std::ofstream(dir_ / "file") << "x";
  r = run(nowhere + "--out " + (dir_ / "file").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--out " + (dir_ / "file").string() + " is not a directory"));
  r = run(nowhere + "--out " + (root_ / "run").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--out " + (root_ / "run").string() + " already holds"));
  // a shape that the data decides is a usage error too, after reading it
  r = run("train --iters 2 --data " + data() + " --out " + (dir_ / "big").string() +
          " --arch 'conv:8x30 affine:10'");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("a window of 30 does not fit the input (1,28,28)"));
  EXPECT_FALSE(fs::exists(dir_ / "big"));
  // a learning rate or init scale that is not a finite number
  for (const char* option : {"--lr inf", "--lr nan", "--init-std 1e999", "--reg inf"}) {
    r = run(nowhere + option);
    EXPECT_EQ(r.status, 2) << option << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("must be a finite number")) << option;
  }
}

// Issue 24, class 9: the first SIGINT or SIGTERM stops training after the step under way,
// with a checkpoint, metrics.csv and curves.svg, the command that resumes, and exit status
// 128 + the signal; the printed command goes on.
TEST_F(TrainCli, SignalStopsTrainingResumably) {
  for (int signal : {SIGINT, SIGTERM}) {
    const fs::path run_dir = dir_ / (signal == SIGINT ? "int" : "term");
    const fs::path log = run_dir.string() + ".log";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // (a child of its own: a shell would start it with SIGINT ignored)
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string out = run_dir.string(), mnist = data();
      ::execl(NABLA_CLI, NABLA_CLI, "train", "--iters", "100000000", "--batch", "10", "--data",
              mnist.c_str(), "--out", out.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Signalled once past the first epoch's checkpoint (60 iterations), mid-epoch.
    auto rows = [&] { return count(read_file(run_dir / "metrics.csv"), "\n"); };
    for (int i = 0; i < 1200 && rows() < 80; ++i) ::usleep(50000);
    ASSERT_EQ(::kill(pid, signal), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    const std::string out = read_file(log);
    ASSERT_TRUE(WIFEXITED(status)) << out;
    EXPECT_EQ(WEXITSTATUS(status), 128 + signal) << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        out, m,
        std::regex(std::string("nabla train: ") +
                   (signal == SIGINT ? "interrupted \\(SIGINT\\)" : "terminated \\(SIGTERM\\)") +
                   ": stopped at iteration (\\d+) of 100000000; checkpoint, metrics.csv and "
                   "curves.svg written in " +
                   run_dir.string() + "\nresume with: (nabla train .*)\n")))
        << out;
    const std::string iteration = m[1];
    EXPECT_EQ(m[2], "nabla train --resume " + (run_dir / "model.safetensors").string() + " --out " +
                        run_dir.string() + " --data " + data());
    EXPECT_EQ(load_safetensors((run_dir / "model.safetensors").string()).metadata.at("iteration"),
              iteration);
    // metrics.csv ends with the row of that iteration
    const std::string csv = read_file(run_dir / "metrics.csv");
    ASSERT_GT(csv.size(), 2u);
    EXPECT_THAT(csv.substr(csv.rfind('\n', csv.size() - 2) + 1),
                ::testing::StartsWith(iteration + ","));
    EXPECT_TRUE(fs::exists(run_dir / "curves.svg"));
    // the printed command (with the total it needs) goes on from there
    const std::int64_t next = std::stoll(iteration) + 3;
    Result r = run(std::string(m[2]).substr(std::string("nabla ").size()) + " --iters " +
                   std::to_string(next));
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("resumed from " + (run_dir / "model.safetensors").string() +
                                 " at iteration " + iteration));
    EXPECT_THAT(read_file(run_dir / "metrics.csv"), HasSubstr("\n" + std::to_string(next) + ","));
  }
}

// Issue 24, class 5: output that cannot be written is an error, for every command
// (here: stdout on /dev/full), with the cause.
TEST_F(TrainCli, EveryCommandFailsWhenStdoutCannotBeWritten) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string model_data = " --model " + model() + " --data " + data();
  for (const std::string& args :
       {"eval" + model_data, "eval --json" + model_data, "predict --index 1,2" + model_data,
        "predict --json --index 3" + model_data, "knn --k 1 --test-size 10 --data " + data(),
        std::string("example apple"), std::string("example --list"),
        std::string("gradcheck --samples 1"), std::string("--help"), std::string("train --help"),
        std::string("--version"),
        "train --iters 2 --data " + data() + " --out " + (dir_ / "full").string()}) {
    Result r = run(args + " >/dev/full");
    EXPECT_EQ(r.status, 1) << args << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("nabla: error: cannot write to standard output: No space left "
                                 "on device"))
        << args;
  }
  // train stops before its first step
  EXPECT_FALSE(fs::exists(dir_ / "full" / "model.safetensors"));
}

TEST_F(TrainCli, HelpListsTheOptions) {
  Result r = run("train --help");
  EXPECT_EQ(r.status, 0);
  for (const char* option :
       {"--data", "--model", "--hidden", "--activation", "--iters", "--epochs", "--batch", "--lr",
        "--optimizer", "--init", "--seed", "--sampling", "--threads", "--out", "--resume"}) {
    EXPECT_THAT(r.out, HasSubstr(option));
  }
  EXPECT_THAT(r.out, HasSubstr("textbook"));
  // The defaults are the textbook's recipe, and --help says so.
  for (const char* value :
       {"--iters INT:NONNEGATIVE=10000", "--batch INT:POSITIVE=100", "--lr FLOAT:POSITIVE=0.1",
        "=sgd", "--init-std FLOAT:POSITIVE=0.01", "--seed UINT=42", "=replacement"}) {
    EXPECT_THAT(r.out, HasSubstr(value));
  }
}

TEST_F(TrainCli, DefaultRunDirectoryAndDataFromTheEnvironment) {
  // No --out: runs/<date-time>/ under the working directory; no --data: $NABLA_DATA.
  Result r = run("train --iters 3", "cd " + dir_.string() + " && NABLA_DATA=" + data());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("data " + data() + ": 600 training, 200 test images"));
  ASSERT_TRUE(fs::exists(dir_ / "runs"));
  std::vector<fs::path> runs;
  for (const auto& entry : fs::directory_iterator(dir_ / "runs")) runs.push_back(entry.path());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_THAT(runs[0].filename().string(), ::testing::MatchesRegex("[0-9]{8}-[0-9]{6}"));
  EXPECT_TRUE(fs::exists(runs[0] / "model.safetensors"));
  EXPECT_TRUE(fs::exists(runs[0] / "metrics.csv"));
  EXPECT_TRUE(fs::exists(runs[0] / "curves.svg"));
}

TEST_F(TrainCli, TerminalShowsAProgressBar) {
  // `script` runs the command on a pseudo-terminal, as a user's shell would.
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1)";
  std::string cmd = std::string(NABLA_CLI) + " train --iters 200 --data " + data() + " --out " +
                    (dir_ / "run").string();
  Result r = run_command("script -qec '" + cmd + "' /dev/null");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\r["));
  EXPECT_THAT(r.out, HasSubstr("200/200 loss "));
  EXPECT_THAT(r.out, HasSubstr(" it/s "));
  EXPECT_THAT(r.out, HasSubstr(" s left"));
  EXPECT_THAT(r.out, HasSubstr("final: train acc, test acc | "));
}

// ---- bad input ------------------------------------------------------------------------

TEST_F(TrainCli, MissingDataSaysHowToFetch) {
  std::string missing = (dir_ / "nowhere").string();
  Result r = run("train --iters 1 --data " + missing + " --out " + dir_.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("data directory " + missing + " does not exist"));
  EXPECT_THAT(r.out, HasSubstr("scripts/fetch_mnist.sh"));
  Result e = run("eval --model " + model() + " --data " + missing);
  EXPECT_EQ(e.status, 1);
  EXPECT_THAT(e.out, HasSubstr("scripts/fetch_mnist.sh"));
}

TEST_F(TrainCli, TruncatedIdxNamesTheFile) {
  std::string dir = data_copy();
  fs::path images = fs::path(dir) / "train-images-idx3-ubyte";
  fs::resize_file(images, fs::file_size(images) - 100);
  Result r = run("train --iters 1 --data " + dir + " --out " + (dir_ / "run").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr(images.string() + ": truncated"));
}

TEST_F(TrainCli, WrongMagicNamesTheFile) {
  std::string dir = data_copy();
  fs::path labels = fs::path(dir) / "t10k-labels-idx1-ubyte";
  std::string bytes = read_file(labels);
  bytes[2] = 0x0d;  // float elements
  std::ofstream(labels, std::ios::binary) << bytes;
  Result r = run("train --iters 1 --data " + dir + " --out " + (dir_ / "run").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr(labels.string() + ": "));
  EXPECT_THAT(r.out, HasSubstr("magic"));
}

TEST_F(TrainCli, MismatchedCountsAndBadLabels) {
  std::string dir = data_copy();
  fs::path labels = fs::path(dir) / "train-labels-idx1-ubyte";
  write_idx(labels.string(), IdxArray{{599}, ByteBuffer(599, 1)});
  Result r = run("train --iters 1 --data " + dir + " --out " + (dir_ / "run").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr(labels.string() + ": 599 labels, but "));

  ByteBuffer values(600, 1);
  values[17] = 10;
  write_idx(labels.string(), IdxArray{{600}, values});
  r = run("train --iters 1 --data " + dir + " --out " + (dir_ / "run").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr(labels.string() + ": label 10 of sample 17"));
  EXPECT_THAT(r.out, HasSubstr("out of range"));
}

TEST_F(TrainCli, DamagedModelFile) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  fs::path damaged = dir_ / "damaged.safetensors";
  fs::copy_file(model(), damaged);
  fs::resize_file(damaged, fs::file_size(damaged) / 2);
  Result r = run("eval --model " + damaged.string() + " --data " + data());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("nabla: error: " + damaged.string() + ": "));
  Result p = run("predict --model " + damaged.string() + " --index 0 --data " + data());
  EXPECT_EQ(p.status, 1);
  EXPECT_THAT(p.out, HasSubstr(damaged.string() + ": "));
  Result t = run("train --resume " + damaged.string() + " --data " + data() + " --out " +
                 (dir_ / "out").string());
  EXPECT_EQ(t.status, 1);
  EXPECT_THAT(t.out, HasSubstr(damaged.string() + ": "));

  fs::path missing = dir_ / "missing.safetensors";
  Result m = run("eval --model " + missing.string() + " --data " + data());
  EXPECT_EQ(m.status, 1);
  EXPECT_THAT(m.out, HasSubstr(missing.string()));
}

TEST_F(TrainCli, ModelOfAnotherArchitecture) {
  // Parameters of a 784-100-10 network, metadata claiming 784-50-10.
  Rng rng(1);
  ModelSpec real;
  real.hidden = {100};
  Sequential net = build_model(real, rng);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const Var& p : net.parameters()) tensors.emplace_back(p.name(), p.value());
  fs::path file = dir_ / "other.safetensors";
  save_safetensors(file.string(), tensors,
                   {{"format", "nabla-model-1"}, {"model", ModelSpec{}.to_json()}});
  Result r = run("eval --model " + file.string() + " --data " + data());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr(file.string() +
                               ": parameter W1 has shape (784,100), the architecture "
                               "two-layer-net 784-50-10 relu, softmax loss expects (784,50)"));

  // A safetensors file that is not a nabla model.
  fs::path plain = dir_ / "plain.safetensors";
  save_safetensors(plain.string(), tensors);
  r = run("eval --model " + plain.string() + " --data " + data());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr(plain.string() + ": not a nabla model file"));
}

TEST_F(TrainCli, NonFiniteLossStopsTraining) {
  Result r = run("train --iters 20 --lr 1e30 --data " + data() + " --out " + dir_.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("nabla train: iteration "));
  EXPECT_THAT(r.out, HasSubstr("the loss is NaN"));
  EXPECT_THAT(r.out, HasSubstr("Try a lower learning rate"));
  EXPECT_THAT(r.out, Not(HasSubstr("final:")));
}

TEST_F(TrainCli, PredictIndexBeyondTheTestSet) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  for (const char* index : {"200", "9999"}) {  // the test set has 200 images
    Result r = run("predict --model " + model() + " --index " + index + " --data " + data());
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_THAT(r.out, HasSubstr(std::string("--index ") + index +
                                 " is out of range: the test set has 200 images (0 to 199)"));
    EXPECT_THAT(r.out, Not(HasSubstr("class")));
  }
  Result r = run("predict --model " + model() + " --index 199 --data " + data());
  EXPECT_EQ(r.status, 0) << r.out;
  r = run("predict --model " + model() + " --index -1 --data " + data());
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--index"));
}

TEST_F(TrainCli, CountsThatDoNotFitAreRefused) {
  std::string base = "train --data " + data() + " --out " + (dir_ / "run").string() + " ";
  Result r = run(base + "--epochs 4611686018427387904");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("4611686018427387904 epochs of 6 iterations are more iterations "
                               "than can be counted"));
  r = run(base + "--iters 99999999999999999999");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--iters: must be a whole number from 0 to 9223372036854775807, "
                               "got 99999999999999999999"));
  r = run(base + "--seed -1");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--seed: must be a whole number from 0 to 18446744073709551615"));
  r = run(base + "--iters 2.5");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--iters: must be a whole number"));
  r = run(base + "--hidden 4000000000");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--hidden: must be a whole number from 1 to 1048576"));
  r = run(base + "--model mlp --hidden 1000000,1000000");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.out, HasSubstr("parameters; at most 268435456 are supported"));
  EXPECT_FALSE(fs::exists(dir_ / "run" / "model.safetensors"));
}

TEST_F(TrainCli, DivergingLossStopsTraining) {
  Result r = run("train --iters 50 --lr 1e6 --data " + data() + " --out " + (dir_ / "lr").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("nabla train: iteration [0-9]+: the loss diverged"));
  EXPECT_THAT(r.out, Not(HasSubstr("final:")));

  r = run("train --iters 20 --init-std 1e300 --data " + data() + " --out " +
          (dir_ / "init").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla train: iteration 0: the loss is NaN"));
  EXPECT_THAT(r.out, HasSubstr("parameter W1 holds values that are not finite"));
  EXPECT_THAT(r.out, Not(HasSubstr("learning rate")));

  // (an infinite --reg is refused with the options, issue 24; 1e308 overflows the penalty)
  r = run("train --iters 20 --reg inf --data " + data() + " --out " + (dir_ / "reg").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--reg: must be a finite number, got inf"));
}

TEST_F(TrainCli, RunThatEndsAtChanceFails) {
  // Two epochs at a learning rate that moves nothing: the model guesses.
  Result r = run("train --iters 12 --lr 1e-12 --data " + data() + " --out " + dir_.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("is no better than chance (0.100000 for 10 classes) after 12 "
                               "iterations: the model did not learn"));
  EXPECT_TRUE(fs::exists(dir_ / "model.safetensors"));
}

// ---- durable logs and concurrent runs -----------------------------------------------

TEST_F(TrainCli, MetricsSurviveAKillAndResumeAppends) {
  // One batch is the whole set: a checkpoint after every iteration.
  fs::path run_dir = dir_ / "run";
  Result started = run_command(
      "nohup " + std::string(NABLA_CLI) + " train --iters 100000000 --batch 600 --data " + data() +
      " --out " + run_dir.string() + " >" + (dir_ / "log").string() + " 2>&1 & echo $!");
  ASSERT_EQ(started.status, 0) << started.out;
  const pid_t pid = std::stoi(started.out);
  // Kill it once a few checkpoints are down (however slow the machine: a fixed wait could
  // catch only the first, which has no row before it to check).
  auto checkpointed = [&]() -> std::int64_t {
    try {
      return std::stoll(
          load_safetensors((run_dir / "model.safetensors").string()).metadata.at("iteration"));
    } catch (const std::exception&) {
      return 0;  // not written yet
    }
  };
  for (int i = 0; i < 1200 && checkpointed() < 3; ++i) ::usleep(50000);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Gone once its lock on the run directory is free.
  const int lock = ::open((run_dir / ".lock").c_str(), O_RDWR);
  ASSERT_GE(lock, 0);
  for (int i = 0; i < 600 && ::flock(lock, LOCK_EX | LOCK_NB) != 0; ++i) ::usleep(50000);
  ::close(lock);
  ASSERT_TRUE(fs::exists(run_dir / "model.safetensors")) << read_file(dir_ / "log");
  const std::int64_t checkpoint = std::stoll(
      load_safetensors((run_dir / "model.safetensors").string()).metadata.at("iteration"));
  ASSERT_GE(checkpoint, 3) << read_file(dir_ / "log");
  // Every row up to the checkpoint before it was flushed with it.
  std::string csv = read_file(run_dir / "metrics.csv");
  EXPECT_THAT(csv, ::testing::StartsWith("iteration,loss,train_acc,test_acc,seconds\n1,"));
  EXPECT_THAT(csv, HasSubstr("\n" + std::to_string(checkpoint - 1) + ","));

  // The resumed run keeps those bytes and appends to them.
  std::string kept = csv.substr(0, csv.find("\n" + std::to_string(checkpoint + 1) + ",") + 1);
  Result r =
      run("train --resume " + (run_dir / "model.safetensors").string() + " --iters " +
          std::to_string(checkpoint + 3) + " --data " + data() + " --out " + run_dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::string after = read_file(run_dir / "metrics.csv");
  EXPECT_EQ(after.substr(0, kept.size()), kept);
  EXPECT_THAT(after, HasSubstr("\n" + std::to_string(checkpoint + 3) + ","));
  EXPECT_EQ(count(after, "iteration,loss"), 1u);
}

TEST_F(TrainCli, FailedWritesAreErrors) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  for (const char* name : {"metrics.csv", "curves.svg"}) {
    fs::path run_dir = dir_ / name;
    fs::create_directories(run_dir);
    fs::create_symlink("/dev/full", run_dir / name);
    Result r =
        run("train --iters 3 --data " + data() + " --out " + run_dir.string() + " --overwrite");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_THAT(r.out, HasSubstr("cannot write " + (run_dir / name).string() +
                                 ": No space left on device"));
    EXPECT_THAT(r.out, Not(HasSubstr("curves in")));
  }
}

TEST_F(TrainCli, SecondRunIntoALockedDirectoryIsRefused) {
  fs::create_directories(dir_ / "run");
  int fd = ::open((dir_ / "run" / ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a run in progress holds it
  Result r = run("train --iters 3 --data " + data() + " --out " + (dir_ / "run").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("run directory " + (dir_ / "run").string() +
                               " is in use by another nabla train"));
  EXPECT_FALSE(fs::exists(dir_ / "run" / "metrics.csv"));
  ::close(fd);
  r = run("train --iters 3 --data " + data() + " --out " + (dir_ / "run").string());
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(TrainCli, GradcheckWithoutData) {
  // (The check on real images is in train_e2e_test.)
  Result missing = run("gradcheck --data " + (dir_ / "nowhere").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.out, HasSubstr("scripts/fetch_mnist.sh"));
}

// ---- conventions of the command (issue 15) --------------------------------------------

TEST_F(TrainCli, ProgressGoesToStderrAndStdoutStaysPlain) {
  // stdout to a file, stderr on a terminal: the bar is drawn there, the file gets lines.
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1)";
  std::string cmd = std::string(NABLA_CLI) + " train --iters 200 --data " + data() + " --out " +
                    (dir_ / "run").string() + " >" + (dir_ / "stdout").string();
  Result r = run_command("script -qec '" + cmd + "' /dev/null");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\r["));
  EXPECT_THAT(r.out, HasSubstr("200/200 loss "));
  std::string out = read_file(dir_ / "stdout");
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_THAT(out, Not(HasSubstr("it/s")));
  EXPECT_TRUE(final_line(out).size() == 3) << out;
}

TEST_F(TrainCli, RunsStartedInTheSameSecondGetDirectoriesOfTheirOwn) {
  // The names of the next few seconds are taken already (by runs of someone else): a new
  // run adds a suffix instead of writing into one of them; two runs at once get two.
  fs::create_directories(dir_ / "runs");
  std::vector<fs::path> taken;
  for (int s = 0; s < 4; ++s) {
    std::time_t t = std::time(nullptr) + s;
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
    taken.push_back(dir_ / "runs" / stamp);
    fs::create_directories(taken.back());
    std::ofstream(taken.back() / "notes.txt") << "someone's run\n";
  }
  std::string train = std::string(NABLA_CLI) + " train --iters 3 >/dev/null 2>&1";
  Result r = run_command("cd " + dir_.string() + " && export NABLA_DATA=" + data() + " && " +
                         train + " & a=$!; " + "cd " + dir_.string() + " && NABLA_DATA=" + data() +
                         " " + train + "; b=$?; wait $a; echo \"$? $b\"");
  EXPECT_EQ(r.out, "0 0\n");
  std::vector<std::string> made;
  for (const auto& entry : fs::directory_iterator(dir_ / "runs")) {
    if (std::find(taken.begin(), taken.end(), entry.path()) != taken.end()) {
      EXPECT_FALSE(fs::exists(entry.path() / "model.safetensors")) << entry.path();
      EXPECT_EQ(read_file(entry.path() / "notes.txt"), "someone's run\n");
      continue;
    }
    made.push_back(entry.path().filename().string());
    // (suffixed, unless the machine was so slow that the runs began after those seconds)
    EXPECT_THAT(made.back(), ::testing::MatchesRegex("[0-9]{8}-[0-9]{6}(-[0-9]+)?"));
    EXPECT_TRUE(fs::exists(entry.path() / "model.safetensors")) << entry.path();
    EXPECT_EQ(count(read_file(entry.path() / "metrics.csv"), "iteration,loss"), 1u);
  }
  EXPECT_EQ(made.size(), 2u);
}

TEST_F(TrainCli, ExistingOutIsRefusedUnlessOverwrite) {
  std::string out = (dir_ / "run").string();
  ASSERT_EQ(run("train --iters 3 --data " + data() + " --out " + out).status, 0);
  Result r = run("train --iters 5 --data " + data() + " --out " + out);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla train: error: --out " + out + " already holds "));
  EXPECT_THAT(r.out, HasSubstr("--overwrite"));
  EXPECT_EQ(load_safetensors(out + "/model.safetensors").metadata.at("iteration"), "3");
  r = run("train --iters 5 --data " + data() + " --out " + out + " --overwrite");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(load_safetensors(out + "/model.safetensors").metadata.at("iteration"), "5");
  EXPECT_EQ(count(read_file(fs::path(out) / "metrics.csv"), "iteration,loss"), 1u);
}

TEST_F(TrainCli, ResumeRefusesOptionsThatContradictTheCheckpoint) {
  std::string out = (dir_ / "run").string(), checkpoint = out + "/model.safetensors";
  ASSERT_EQ(run("train --iters 6 --data " + data() + " --out " + out).status, 0);
  std::string resume = "train --resume " + checkpoint + " --data " + data() + " --out " + out;
  Result r = run(resume + " --iters 8 --optimizer adam --batch 50 --hidden 30");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--hidden 30 (the checkpoint's is 50), --batch 50 (the "
                               "checkpoint's is 100), --optimizer adam (the checkpoint's is sgd)"));
  EXPECT_EQ(load_safetensors(checkpoint).metadata.at("iteration"), "6");
  // Options that say what the checkpoint says are fine.
  r = run(resume + " --iters 8 --optimizer sgd --batch 100");
  EXPECT_EQ(r.status, 0) << r.out;
  // --lr is meant to change: applied from the checkpoint on, said, and saved.
  r = run(resume + " --iters 10 --lr 0.05");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("resumed from " + checkpoint +
                               " at iteration 8\n"
                               "learning rate 0.1 -> 0.05 (--lr)\n"));
  EXPECT_THAT(r.out, HasSubstr("sgd lr 0.05"));
  LoadedModel m = load_model(checkpoint);
  EXPECT_EQ(TrainConfig::from_json(m.metadata.at("train")).lr, 0.05);
}

TEST_F(TrainCli, OptionsTheModelWouldIgnoreAreRefused) {
  std::string base = "train --iters 3 --data " + data() + " --out " + (dir_ / "run").string();
  Result r = run(base + " --model linear --hidden 50");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--hidden does not apply to --model linear"));
  r = run(base + " --model linear --activation tanh");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--activation does not apply to --model linear"));
  r = run(base + " --init xavier --init-std 0.1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--init-std applies to --init std only, not --init xavier"));
  EXPECT_FALSE(fs::exists(dir_ / "run"));
  r = run(base + " --model linear");
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(TrainCli, EvalAndPredictNeedOnlyTheTestFiles) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  fs::create_directories(dir_ / "test-only");
  for (const char* name : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    fs::copy_file(root_ / "mnist" / name, dir_ / "test-only" / name);
  }
  std::string test_only = (dir_ / "test-only").string();
  Result r = run("eval --model " + model() + " --data " + test_only);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\ntest acc | " + final_line(first_.out)[2].str() + "\n"));
  Result p = run("predict --model " + model() + " --index 199 --data " + test_only);
  EXPECT_EQ(p.status, 0) << p.out;
  EXPECT_THAT(p.out, HasSubstr("test image 199: class "));
  // --train needs the training files, and says which is missing.
  r = run("eval --model " + model() + " --data " + test_only + " --train");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("test-only: missing train-"));
}

TEST_F(TrainCli, EvalAndPredictPrintJson) {
  ASSERT_EQ(first_.status, 0) << first_.out;
  std::smatch final = final_line(first_.out);
  ASSERT_EQ(final.size(), 3u) << first_.out;
  Result r = run("eval --model " + model() + " --data " + data() + " --train --json 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json e = nlohmann::json::parse(r.out);  // the whole of stdout is one document
  EXPECT_EQ(e.at("model"), "two-layer-net 784-50-10 relu, softmax loss");
  EXPECT_EQ(e.at("iterations"), 50);
  EXPECT_EQ(e.at("test_size"), 200);
  EXPECT_EQ(e.at("train_size"), 600);
  EXPECT_NEAR(e.at("test_acc").get<double>(), std::stod(final[2].str()), 5e-5);
  EXPECT_NEAR(e.at("train_acc").get<double>(), std::stod(final[1].str()), 5e-5);

  Result p = run("predict --model " + model() + " --index 0,1 --data " + data() + " --json");
  ASSERT_EQ(p.status, 0) << p.out;
  nlohmann::json j = nlohmann::json::parse(p.out);
  EXPECT_EQ(j.at("model"), "two-layer-net 784-50-10 relu, softmax loss");
  ASSERT_EQ(j.at("predictions").size(), 2u);
  Result text = run("predict --model " + model() + " --index 0,1 --data " + data());
  for (int i = 0; i < 2; ++i) {
    const nlohmann::json& one = j.at("predictions").at(static_cast<std::size_t>(i));
    EXPECT_EQ(one.at("input"), "test image " + std::to_string(i));
    EXPECT_EQ(one.at("index"), i);
    ASSERT_EQ(one.at("probabilities").size(), 10u);
    double sum = 0;
    for (double q : one.at("probabilities")) sum += q;
    EXPECT_NEAR(sum, 1.0, 1e-5);
    // the same class and label as the text output
    EXPECT_THAT(text.out, HasSubstr("test image " + std::to_string(i) + ": class " +
                                    std::to_string(one.at("class").get<int>()) + " (label " +
                                    std::to_string(one.at("label").get<int>()) + ")\n"));
  }
}

// --validation holds out a share of the training images: evaluated at each evaluation,
// its best checkpoint kept; --early-stop ends the run on it; a resumed run holds out the
// same rows without being told.
TEST_F(TrainCli, ValidationSplitBestModelAndEarlyStop) {
  const std::string out = (dir_ / "v").string();
  Result r = run("train --data " + data() + " --validation 0.2 --early-stop 2 --iters 400 " +
                 "--batch 20 --threads 1 --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("a validation split of 0.2 of the training examples held out "
                               "(seed 42)"));
  EXPECT_THAT(r.out, HasSubstr("iteration 1: train acc, validation acc, test acc | "));
  EXPECT_THAT(r.out, HasSubstr("stopped early at iteration "));
  EXPECT_THAT(r.out, HasSubstr("best validation acc "));
  EXPECT_TRUE(fs::exists(dir_ / "v" / "best.safetensors"));
  EXPECT_THAT(read_file(dir_ / "v" / "metrics.csv"),
              ::testing::StartsWith("iteration,loss,train_acc,validation_acc,test_acc,seconds\n"));
  // 480 training images in batches of 20: 24 iterations an epoch
  EXPECT_THAT(r.out, HasSubstr("(24 per epoch)"));
  // resumed without --validation: the checkpoint's split; another one is refused
  Result resumed = run("train --data " + data() + " --iters 30 --threads 1 --resume " + out +
                       "/best.safetensors --out " + (dir_ / "v2").string());
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_THAT(resumed.out, HasSubstr("a validation split of 0.2"));
  Result other = run("train --data " + data() + " --validation 0.3 --iters 30 --resume " + out +
                     "/best.safetensors --out " + (dir_ / "v3").string());
  EXPECT_EQ(other.status, 2) << other.out;
  EXPECT_THAT(other.out, HasSubstr("--validation 0.3 (the checkpoint's is 0.2)"));
  // early stopping without a validation split
  Result no_split = run("train --data " + data() + " --early-stop 2 --iters 5 --out " +
                        (dir_ / "v4").string());
  EXPECT_NE(no_split.status, 0);
  EXPECT_THAT(no_split.out, HasSubstr("early stopping needs a validation split"));
}

}  // namespace
}  // namespace nabla
