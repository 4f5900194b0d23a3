// Issue 5's "done" on the real MNIST: k-NN with L2 (k by cross-validation) reaches 0.965
// test accuracy on the full 60,000 x 10,000 images, the linear softmax classifier 0.915
// and the linear SVM 0.90. CTest label `slow`; skipped without MNIST.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "test_util.h"

namespace {

using nabla::testing_util::have_mnist;
using nabla::testing_util::mnist_dir;

using ::testing::HasSubstr;

// The number after "test acc | " in a command's output (-1 if none).
double test_accuracy(const std::string& out) {
  static const std::regex re(R"(test acc \| ([0-9.]+))");
  double acc = -1;
  for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it) {
    acc = std::stod((*it)[1]);
  }
  return acc;
}

TEST(ClassicOnMnist, KnnL2WithCrossValidatedK) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not found in " << mnist_dir();
  auto r = nabla::testing_util::run_nabla("knn --distance l2 --data " + mnist_dir());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("k = 1   cv acc | "));
  EXPECT_THAT(r.out, HasSubstr("k = 9   cv acc | "));
  EXPECT_THAT(r.out, HasSubstr("best k = "));
  EXPECT_GE(test_accuracy(r.out), 0.965) << r.out;
}

TEST(ClassicOnMnist, LinearSoftmax) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not found in " << mnist_dir();
  nabla::testing_util::ScopedTempDir dir("classic_e2e");
  std::string out = dir / "linear_softmax";
  auto r = nabla::testing_util::run_nabla(
      "train --model linear --loss softmax --lr 0.5 --epochs 10 --out " + out + " --data " +
      mnist_dir());
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(final: train acc, test acc \| [0-9.]+, ([0-9.]+))")));
  EXPECT_GE(std::stod(m[1]), 0.915) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out + "/model.safetensors"));
}

TEST(ClassicOnMnist, LinearSvmWithRegularization) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not found in " << mnist_dir();
  nabla::testing_util::ScopedTempDir dir("classic_e2e");
  std::string out = dir / "linear_svm";
  auto r = nabla::testing_util::run_nabla(
      "train --model linear --loss svm --reg 0.0001 --lr 0.05 --epochs 10 --out " + out +
      " --data " + mnist_dir());
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(final: train acc, test acc \| [0-9.]+, ([0-9.]+))")));
  EXPECT_GE(std::stod(m[1]), 0.90) << r.out;
}

}  // namespace
