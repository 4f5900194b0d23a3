// nabla/csv.h — labelled rows from a CSV file, for training on your own data.
//
// Each line is the class label (a whole number >= 0), then the numeric features:
//
//   label,x1,x2,x3          <- an optional header line (its first field is not a number)
//   3,0.5,0.25,1
//   0,0.1,0.9,0
//
// Errors name the file and the line: a row with another number of fields than the first
// row, a field that is not a number, a label that is not a whole number >= 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/idx.h"  // DataError
#include "nabla/tensor.h"

namespace nabla {

struct LabelledRows {
  Tensor features;                   // (N, D) float32
  std::vector<std::int64_t> labels;  // (N)
  std::vector<std::int64_t> lines;   // the line of each row in its file (1-based)
};

// Throws DataError naming the file (and the line) for an unreadable file, a file without
// rows, or a bad row.
LabelledRows read_labelled_csv(const std::string& path);

// The rows whose index is in `rows`, in that order.
LabelledRows select_rows(const LabelledRows& from, const std::vector<std::int64_t>& rows);

// The training and test rows of `nabla train --data train.csv [--test-data test.csv]`.
// Without a test file, a sixth of the training rows (drawn with Rng(seed)) is held out as
// the test set. The classes are 0 .. the largest training label; a test label beyond them
// is a DataError naming its file and line, as is a training file with fewer than 2
// classes or rows of another width in the test file.
struct CsvSplit {
  LabelledRows train, test;
  std::int64_t classes = 0;
  bool held_out = false;  // the test rows were held out of the training file
};
CsvSplit load_csv_split(const std::string& train_path, const std::string& test_path,
                        std::uint64_t seed);

}  // namespace nabla
