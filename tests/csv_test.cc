// Labelled rows from CSV files: values, the optional header, the held-out sixth, and
// errors that name the file and the line.
#include "nabla/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace nabla {
namespace {

using ::testing::HasSubstr;

class CsvFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nabla_csv_test_" + std::to_string(::getpid()) + "_" +
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
      load_csv_split(train, test, 1);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
  std::filesystem::path dir_;
};

TEST_F(CsvFiles, ReadsRowsWithOrWithoutAHeader) {
  for (const std::string& header : {std::string(""), std::string("label,a,b\n")}) {
    std::string path = write("a.csv", header + "2,0.5,-1\r\n\n0, 1e-3 ,4\n");
    LabelledRows r = read_labelled_csv(path);
    EXPECT_EQ(r.labels, (std::vector<std::int64_t>{2, 0}));
    EXPECT_EQ(r.features.shape(), (Shape{2, 2}));
    EXPECT_EQ(r.features.dtype(), DType::f32);
    EXPECT_EQ(r.features.to_vector(), (std::vector<double>{0.5, -1, 0.001f, 4}));
    const std::int64_t first = header.empty() ? 1 : 2;
    EXPECT_EQ(r.lines, (std::vector<std::int64_t>{first, first + 2}));
  }
}

TEST_F(CsvFiles, ErrorsNameTheFileAndTheLine) {
  std::string ragged = write("ragged.csv", "label,x,y\n1,0.5,0.25\n0,0.5\n");
  EXPECT_EQ(error_of(ragged), ragged + ":3: 2 fields, expected 3 (as on line 2)");
  std::string word = write("word.csv", "1,0.5,0.25\n0,0.5,abc\n");
  EXPECT_EQ(error_of(word), word + ":2: field 3 'abc' is not a number");
  std::string label = write("label.csv", "1,0.5\n-1,0.5\n");
  EXPECT_EQ(error_of(label), label + ":2: the label '-1' is not a whole number >= 0");
  std::string fraction = write("fraction.csv", "1,0.5\n1.5,0.5\n");
  EXPECT_THAT(error_of(fraction), HasSubstr(fraction + ":2: the label '1.5'"));
  std::string empty = write("empty.csv", "label,x\n");
  EXPECT_EQ(error_of(empty), empty + ": no data rows");
  std::string one_class = write("one.csv", "0,1\n0,2\n");
  EXPECT_THAT(error_of(one_class), HasSubstr("at least 2 classes"));
  EXPECT_THAT(error_of((dir_ / "missing.csv").string()), HasSubstr("missing.csv: cannot open"));

  std::string train = write("train.csv", "0,1\n1,2\n2,3\n");
  std::string test = write("test.csv", "x,y\n1,0.5\n3,0.5\n");
  EXPECT_EQ(error_of(train, test),
            test + ":3: label 3 is out of range: " + train + " has classes 0 to 2");
  std::string wide = write("wide.csv", "1,0.5,7\n");
  EXPECT_EQ(error_of(train, wide), wide + ":1: 3 fields, expected 2 (as in " + train + ")");
}

TEST_F(CsvFiles, WithoutATestFileASeededSixthIsHeldOut) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += std::to_string(i % 3) + "," + std::to_string(i) + "\n";
  std::string path = write("all.csv", text);
  CsvSplit a = load_csv_split(path, "", 7), b = load_csv_split(path, "", 7);
  CsvSplit c = load_csv_split(path, "", 8);
  EXPECT_TRUE(a.held_out);
  EXPECT_EQ(a.classes, 3);
  EXPECT_EQ(a.train.labels.size(), 50u);
  EXPECT_EQ(a.test.labels.size(), 10u);
  EXPECT_EQ(a.test.features.to_vector(), b.test.features.to_vector());  // seeded
  EXPECT_NE(a.test.features.to_vector(), c.test.features.to_vector());
  // every row once: the feature is the row's index
  std::vector<double> seen = a.train.features.to_vector();
  for (double v : a.test.features.to_vector()) seen.push_back(v);
  std::sort(seen.begin(), seen.end());
  for (int i = 0; i < 60; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  CsvSplit given = load_csv_split(path, path, 7);
  EXPECT_FALSE(given.held_out);
  EXPECT_EQ(given.test.labels.size(), 60u);
}

}  // namespace
}  // namespace nabla
