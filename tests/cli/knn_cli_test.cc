// `nabla knn` on a small MNIST-format data set: sizes come from the data, and sizes or
// values of k that the data cannot give are usage errors naming the option, found before
// any search.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Result = testing_util::CommandResult;

// 60 training and 20 test images, far fewer than MNIST's 60,000 and 10,000.
class KnnCli : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    testing_util::write_small_mnist(dir_, 60, 20);
  }
  Result knn(const std::string& args) const {
    return testing_util::run_nabla("knn --data " + dir_.string() + " " + args);
  }
};

TEST_F(KnnCli, SizesComeFromTheData) {
  // One k: no cross-validation; all 60 training images searched, all 20 classified.
  Result r = knn("--k 1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("k = 1, l2, 60 training x 20 test images"));
  EXPECT_THAT(r.out, HasSubstr("test acc | 1.0000"));
  // k may be as large as the training set: every image votes.
  r = knn("--k 60 --distance l1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("k = 60, l1, 60 training x 20 test images"));
  // Cross-validation over the 60 images (the default --cv-size, 10,000, is cut to them);
  // 5 folds of 12 leave 48 to search, so k = 48 is the largest it can try.
  r = knn("--k 1,48 --train-size 60");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("5 folds of the first 60 training images"));
  EXPECT_THAT(r.out, HasSubstr("60 training x 20 test images"));
}

TEST_F(KnnCli, SizesAndKTheDataCannotGiveAreUsageErrors) {
  struct Case {
    const char* args;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"--k 1 --train-size 61", "--train-size 61 is more than the 60 training images"},
           {"--k 1 --test-size 21", "--test-size 21 is more than the 20 test images"},
           {"--k 1,3 --test-size 21", "--test-size 21 is more than the 20 test images"},
           {"--k 61", "--k 61 is more than the 60 training images searched"},
           {"--train-size 30 --k 31", "--k 31 is more than --train-size 30"},
           {"--k 1,49",
            "--k 49 is more than the 48 images cross-validation searches for each "
            "fold (--cv-size 60 split into --folds 5)"},
           {"--k 1,9 --cv-size 10", "--k 9 is more than the 8 images cross-validation searches"},
           {"--k 1,3 --cv-size 61", "--cv-size 61 is more than the 60 training images"},
           {"--k 1,3 --train-size 20 --cv-size 30", "--cv-size 30 is more than --train-size 20"},
           {"--k 1,3 --cv-size 4", "--cv-size 4 is less than --folds 5"},
       }) {
    Result r = knn(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_THAT(r.out, HasSubstr(c.message)) << c.args;
    EXPECT_THAT(r.out, Not(HasSubstr("cross-validation:"))) << c.args;  // before any work
    EXPECT_THAT(r.out, HasSubstr("Run 'nabla knn --help'")) << c.args;
  }
}

TEST_F(KnnCli, OptionsThatContradictEachOtherAreRefusedBeforeTheDataIsRead) {
  // No data at all: what the options alone rule out is a usage error first.
  for (const char* args : {"--k 11 --train-size 10", "--k 1,3 --train-size 10 --cv-size 11",
                           "--k 1,9 --cv-size 10 --folds 5"}) {
    Result r =
        testing_util::run_nabla(std::string("knn --data ") + (dir_ / "none").string() + " " + args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_THAT(r.out, Not(HasSubstr("fetch MNIST"))) << args;
  }
  // With the options consistent, missing data is a runtime error (1).
  Result r = testing_util::run_nabla("knn --k 1 --data " + (dir_ / "none").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("fetch MNIST"));
}

}  // namespace
}  // namespace nabla
