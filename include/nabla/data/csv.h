// nabla/csv.h — labelled examples in a CSV file, for training on your own data.
//
// One example a line: the integer class label (or, for a regression, the target value)
// first, then the numeric features, all
// separated by commas. A first line whose first field is not a number is a header and is
// skipped.
// Blank lines are skipped; every other line must have the first data line's number of
// fields. A UTF-8 byte-order mark at the start of the file is skipped.
//
//   label,pixel0,pixel1,...          <- optional header
//   5,0,0,0.32,0.98,...
//   0,0,0.11,...
//
//   LabeledRows data = read_labeled_csv("train.csv");
//   data.rows, data.cols;        // examples, features per example
//   data.classes;                // max label + 1
//
// Bad input throws DataError naming the file and line (and the field): a row with another
// number of fields, a field that is not a finite number (NaN and infinities included) or
// that a float32 cannot hold (1e39), a label that is not a whole number in [0,
// max_classes).
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"  // DataError

NABLA_API_BEGIN
namespace nabla {

struct LabeledRows {
  std::int64_t rows = 0, cols = 0;
  std::int64_t classes = 0;     // largest label + 1 (0 for real-valued targets)
  std::vector<float> features;  // (rows, cols), row-major
  std::vector<std::int64_t> labels;  // class labels (read_labeled_csv)
  std::vector<float> values;         // or real-valued targets (read_valued_csv)
  bool had_header = false;
};

// Labels must be in [0, max_classes).
constexpr std::int64_t kMaxCsvClasses = 1 << 20;

LabeledRows read_labeled_csv(const std::string& path, std::int64_t max_classes = kMaxCsvClasses);
LabeledRows parse_labeled_csv(std::istream& in, const std::string& name,
                              std::int64_t max_classes = kMaxCsvClasses);

// The same for a regression: the first field of a line is its target, any finite number
// a float32 holds, kept in `values` (labels stay empty, classes 0). The same errors, but
// for the label's.
LabeledRows read_valued_csv(const std::string& path);
LabeledRows parse_valued_csv(std::istream& in, const std::string& name);

}  // namespace nabla
NABLA_API_END
