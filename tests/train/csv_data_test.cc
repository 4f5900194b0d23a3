// The rows of `nabla train --data train.csv [--test-data test.csv]`: the held-out sixth,
// and test files that do not fit the training file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "nabla/train/train.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

class CsvData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nabla_csv_data_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string error_of(const std::string& train, const std::string& test = "") {
    try {
      load_csv_data(train, test, 1);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
  std::filesystem::path dir_;
};

TEST_F(CsvData, WithoutATestFileASeededSixthIsHeldOut) {
  std::string text = "label,x\n";
  for (int i = 0; i < 60; ++i) text += std::to_string(i % 3) + "," + std::to_string(i) + "\n";
  std::string path = write("all.csv", text);
  nabla::CsvData a = load_csv_data(path, "", 7), b = load_csv_data(path, "", 7);
  nabla::CsvData c = load_csv_data(path, "", 8);
  EXPECT_TRUE(a.held_out);
  EXPECT_EQ(a.data.classes, 3);
  EXPECT_EQ(a.data.train_x.shape(), (Shape{50, 1}));
  EXPECT_EQ(a.data.test_x.shape(), (Shape{10, 1}));
  EXPECT_EQ(a.data.test_x.to_vector(), b.data.test_x.to_vector());  // seeded
  EXPECT_NE(a.data.test_x.to_vector(), c.data.test_x.to_vector());
  // every row once, with its own label: the feature is the row's index
  std::vector<double> seen = a.data.train_x.to_vector();
  for (double v : a.data.test_x.to_vector()) seen.push_back(v);
  std::sort(seen.begin(), seen.end());
  for (int i = 0; i < 60; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  for (std::size_t i = 0; i < a.data.test_labels.size(); ++i) {
    EXPECT_EQ(a.data.test_labels[i],
              static_cast<std::int64_t>(a.data.test_x.get(static_cast<std::int64_t>(i))) % 3);
  }
  nabla::CsvData given = load_csv_data(path, path, 7);
  EXPECT_FALSE(given.held_out);
  EXPECT_EQ(given.data.test_labels.size(), 60u);
}

TEST_F(CsvData, TestFilesThatDoNotFitAreRefusedByName) {
  std::string train = write("train.csv", "0,1\n1,2\n2,3\n");
  std::string test = write("test.csv", "x,y\n1,0.5\n3,0.5\n");
  EXPECT_THAT(error_of(train, test), HasSubstr(test + ":3: label '3'"));
  std::string wide = write("wide.csv", "1,0.5,7\n");
  EXPECT_EQ(error_of(train, wide), wide + ": 2 features a row, but " + train + " has 1");
  std::string one_class = write("one.csv", "0,1\n0,2\n");
  EXPECT_THAT(error_of(one_class), HasSubstr("at least 2 classes"));
  std::string ragged = write("ragged.csv", "label,x,y\n1,0.5,0.25\n0,0.5\n");
  EXPECT_THAT(error_of(ragged), HasSubstr(ragged + ":3: 2 fields"));
}

}  // namespace
}  // namespace nabla
