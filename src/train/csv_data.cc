// The training and test rows of `nabla train --data train.csv [--test-data test.csv]`.
#include <algorithm>
#include <string>
#include <utility>

#include "nabla/data/csv.h"
#include "nabla/train/train.h"

namespace nabla {

namespace {

// Rows `rows` of `from` as a (rows, cols) float32 tensor and their labels.
std::pair<Tensor, std::vector<std::int64_t>> take_rows(const LabeledRows& from,
                                                       const std::vector<std::int64_t>& rows) {
  const std::int64_t d = from.cols;
  Tensor x = Tensor::empty({static_cast<std::int64_t>(rows.size()), d}, DType::f32);
  std::vector<std::int64_t> labels;
  float* dst = x.data<float>();
  for (std::int64_t r : rows) {
    std::copy_n(from.features.data() + r * d, d, dst);
    dst += d;
    labels.push_back(from.labels[static_cast<std::size_t>(r)]);
  }
  return {std::move(x), std::move(labels)};
}

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  return rows;
}

}  // namespace

CsvData load_csv_data(const std::string& train_path, const std::string& test_path,
                      std::uint64_t seed) {
  const LabeledRows train = read_labeled_csv(train_path);
  if (train.classes < 2) {
    throw DataError(train_path + ": every label is 0; training needs at least 2 classes");
  }
  CsvData out;
  out.data.classes = train.classes;
  if (test_path.empty()) {
    if (train.rows < 2) {
      throw DataError(train_path + ": 1 example; holding out a test set needs at least 2");
    }
    // A seeded shuffle (Fisher-Yates); its last sixth is the test set.
    std::vector<std::int64_t> order = all_rows(train.rows);
    Rng rng(seed);
    for (std::int64_t i = train.rows - 1; i > 0; --i) {
      std::swap(order[static_cast<std::size_t>(i)],
                order[static_cast<std::size_t>(rng.below(i + 1))]);
    }
    const std::int64_t test = std::max<std::int64_t>(train.rows / 6, 1);
    std::tie(out.data.train_x, out.data.train_labels) =
        take_rows(train, std::vector<std::int64_t>(order.begin(), order.end() - test));
    std::tie(out.data.test_x, out.data.test_labels) =
        take_rows(train, std::vector<std::int64_t>(order.end() - test, order.end()));
    out.held_out = true;
    return out;
  }
  // The test labels must be classes the training file has (the reader names the line).
  const LabeledRows test = read_labeled_csv(test_path, train.classes);
  if (test.cols != train.cols) {
    throw DataError(test_path + ": " + std::to_string(test.cols) + " features a row, but " +
                    train_path + " has " + std::to_string(train.cols));
  }
  std::tie(out.data.train_x, out.data.train_labels) = take_rows(train, all_rows(train.rows));
  std::tie(out.data.test_x, out.data.test_labels) = take_rows(test, all_rows(test.rows));
  return out;
}

}  // namespace nabla
