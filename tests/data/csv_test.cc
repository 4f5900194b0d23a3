// The labelled-CSV reader: values, the optional header, and errors naming file and line.
#include "nabla/data/csv.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nabla/data/idx.h"
#include "test_util.h"

namespace nabla {
namespace {

LabeledRows parse(const std::string& text, std::int64_t max_classes = kMaxCsvClasses) {
  std::istringstream in(text);
  return parse_labeled_csv(in, "mem.csv", max_classes);
}

std::string error_of(const std::string& text, std::int64_t max_classes = kMaxCsvClasses) {
  try {
    parse(text, max_classes);
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Csv, ReadsLabelsAndFeatures) {
  LabeledRows d = parse("3,0.5,1e-2,-2\r\n\n0, 1 ,+2,3.25\n");
  EXPECT_FALSE(d.had_header);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.cols, 3);
  EXPECT_EQ(d.classes, 4);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{3, 0}));
  EXPECT_EQ(d.features, (std::vector<float>{0.5f, 0.01f, -2.0f, 1.0f, 2.0f, 3.25f}));
}

TEST(Csv, ReadsRealValuedTargets) {
  std::istringstream in("y,x1,x2\n-0.25,1,2\n3.5e2, 0 ,-1\n");
  const LabeledRows d = parse_valued_csv(in, "mem.csv");
  EXPECT_TRUE(d.had_header);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.cols, 2);
  EXPECT_EQ(d.classes, 0);
  EXPECT_TRUE(d.labels.empty());
  EXPECT_EQ(d.values, (std::vector<float>{-0.25f, 350.0f}));
  EXPECT_EQ(d.features, (std::vector<float>{1, 2, 0, -1}));
  // a target must be a finite float32 number; the line is named
  std::istringstream bad("1,2\n0.5,3\nnan,4\n");
  EXPECT_EQ(testing_util::error_of<DataError>([&] { parse_valued_csv(bad, "mem.csv"); }),
            "mem.csv:3: field 1 'nan' is not a finite number");
  std::istringstream huge("1e39,1\n");
  EXPECT_NE(testing_util::error_of<DataError>([&] {
              parse_valued_csv(huge, "mem.csv");
            }).find("outside the range of float32"),
            std::string::npos);
  std::istringstream alone("1.5\n");
  EXPECT_EQ(testing_util::error_of<DataError>([&] { parse_valued_csv(alone, "mem.csv"); }),
            "mem.csv:1: expected a target and at least one feature, found 1 field");
}

TEST(Csv, SkipsAHeaderLine) {
  LabeledRows d = parse("label,x,y\n1,2,3\n");
  EXPECT_TRUE(d.had_header);
  EXPECT_EQ(d.rows, 1);
  EXPECT_EQ(d.features, (std::vector<float>{2, 3}));
}

TEST(Csv, BadInputNamesFileLineAndField) {
  EXPECT_EQ(error_of("1,2,3\n0,1\n"), "mem.csv:2: 2 fields; line 1 has 3");
  EXPECT_EQ(error_of("label,a,b\n1,2,3\n0,1,2,3\n"), "mem.csv:3: 4 fields; line 2 has 3");
  EXPECT_EQ(error_of("1,2,3\n0,x,3\n"), "mem.csv:2: field 2 'x' is not a finite number");
  EXPECT_EQ(error_of("1,2,nan\n"), "mem.csv:1: field 3 'nan' is not a finite number");
  EXPECT_EQ(error_of("1,2,\n"), "mem.csv:1: field 3 '' is not a finite number");
  EXPECT_EQ(error_of("1.5,2\n"), "mem.csv:1: label '1.5' is not a whole number in [0, 1048576)");
  EXPECT_EQ(error_of("-1,2\n"), "mem.csv:1: label '-1' is not a whole number in [0, 1048576)");
  EXPECT_EQ(error_of("1,2\n10,2\n", 10), "mem.csv:2: label '10' is not a whole number in [0, 10)");
  EXPECT_EQ(error_of("7\n"), "mem.csv:1: expected a label and at least one feature, found 1 field");
  EXPECT_EQ(error_of("a,b\n1,x\n"), "mem.csv:2: field 2 'x' is not a finite number");
  EXPECT_EQ(error_of(""), "mem.csv: no examples (empty file?)");
  EXPECT_EQ(error_of("label,x\n\n"), "mem.csv: no examples (empty file?)");
  EXPECT_THROW(read_labeled_csv("/nonexistent/train.csv"), DataError);
}

// A device has no end (/dev/zero has not even a line's end): only regular files are read.
TEST(Csv, ReadsOnlyRegularFiles) {
  EXPECT_EQ(testing_util::error_of<DataError>([] { read_labeled_csv("/dev/zero"); }),
            "/dev/zero: is a device, not a CSV file");
  testing_util::ScopedTempDir dir("csv");
  EXPECT_EQ(testing_util::error_of<DataError>([&] { read_labeled_csv(dir.path().string()); }),
            dir.path().string() + ": is a directory, not a CSV file");
  EXPECT_EQ(testing_util::error_of<DataError>([] { read_labeled_csv(""); }),
            "empty path where a CSV file was expected");
}

// A number that a double holds but a float32 does not would become an infinity in the
// features: refused with the file, the line and the field (the column).
TEST(Csv, NumbersBeyondFloat32AreRefused) {
  for (const char* big : {"1e39", "-1e39", "1e300", "3.5e38", "-3.41e38"}) {
    EXPECT_EQ(error_of(std::string("0,1,2\n1,2,") + big + "\n"),
              std::string("mem.csv:2: field 3 '") + big +
                  "' is outside the range of float32 (magnitude at most 3.4028235e+38)")
        << big;
  }
  // Not numbers at all: infinities and NaN in their spellings.
  for (const char* word : {"inf", "-inf", "+inf", "infinity", "INF", "nan", "-nan", "NaN"}) {
    EXPECT_EQ(error_of(std::string("1,") + word + "\n"),
              std::string("mem.csv:1: field 2 '") + word + "' is not a finite number")
        << word;
  }
  // The largest float32 and numbers too small for one (they round to 0) are fine.
  LabeledRows d = parse("0,3.4028234e38,-3.4028234e38,1e-50\n");
  EXPECT_EQ(d.features, (std::vector<float>{3.4028234e38f, -3.4028234e38f, 0.0f}));
}

// A byte-order mark (as some spreadsheets write) belongs to no field: the first row stays
// a row, and a header stays a header.
TEST(Csv, ByteOrderMarkIsSkipped) {
  LabeledRows d = parse(
      "\xEF\xBB\xBF"
      "1,2,3\n0,4,5\n");
  EXPECT_FALSE(d.had_header);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{1, 0}));
  d = parse(
      "\xEF\xBB\xBF"
      "label,a,b\n1,2,3\n");
  EXPECT_TRUE(d.had_header);
  EXPECT_EQ(d.rows, 1);
  // Only at the start of the file.
  EXPECT_EQ(error_of("1,2,3\n\xEF\xBB\xBF"
                     "0,4,5\n")
                .substr(0, 19),
            "mem.csv:2: label '\xEF");
}

}  // namespace
}  // namespace nabla
