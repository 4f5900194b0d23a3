// The training and test rows of `nabla train --data train.csv [--test-data test.csv]`.
#include <algorithm>
#include <string>
#include <utility>

#include "nabla/data/csv.h"
#include "nabla/train/train.h"

namespace nabla {

namespace {

// Rows `rows` of `from`: their features as a (rows, cols) float32 tensor, and their labels,
// or (a regression's) their targets as a (rows, 1) float32 tensor.
struct Taken {
  Tensor x;
  std::vector<std::int64_t> labels;
  Tensor targets;
};

Taken take_rows(const LabeledRows& from, const std::vector<std::int64_t>& rows) {
  const std::int64_t d = from.cols, n = static_cast<std::int64_t>(rows.size());
  const bool valued = !from.values.empty();
  Taken out;
  out.x = Tensor::empty({n, d}, DType::f32);
  if (valued) out.targets = Tensor::empty({n, 1}, DType::f32);
  float* dst = out.x.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t r = rows[static_cast<std::size_t>(i)];
    std::copy_n(from.features.data() + r * d, d, dst + i * d);
    if (valued) {
      out.targets.data<float>()[i] = from.values[static_cast<std::size_t>(r)];
    } else {
      out.labels.push_back(from.labels[static_cast<std::size_t>(r)]);
    }
  }
  return out;
}

void set_train(DenseData& data, Taken taken) {
  data.train_x = std::move(taken.x);
  data.train_labels = std::move(taken.labels);
  data.train_targets = std::move(taken.targets);
}

void set_test(DenseData& data, Taken taken) {
  data.test_x = std::move(taken.x);
  data.test_labels = std::move(taken.labels);
  data.test_targets = std::move(taken.targets);
}

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  return rows;
}

}  // namespace

CsvData load_csv_data(const std::string& train_path, const std::string& test_path,
                      std::uint64_t seed, CsvTask task) {
  const bool regression = task == CsvTask::regression;
  const LabeledRows train = regression ? read_valued_csv(train_path) : read_labeled_csv(train_path);
  if (!regression && train.classes < 2) {
    throw DataError(train_path + ": every label is 0; training needs at least 2 classes");
  }
  CsvData out;
  out.data.classes = regression ? 1 : train.classes;  // (a regression's one output)
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
    set_train(out.data,
              take_rows(train, std::vector<std::int64_t>(order.begin(), order.end() - test)));
    set_test(out.data,
             take_rows(train, std::vector<std::int64_t>(order.end() - test, order.end())));
    out.held_out = true;
    return out;
  }
  // The test labels must be classes the training file has (the reader names the line).
  const LabeledRows test =
      regression ? read_valued_csv(test_path) : read_labeled_csv(test_path, train.classes);
  if (test.cols != train.cols) {
    throw DataError(test_path + ": " + std::to_string(test.cols) + " features a row, but " +
                    train_path + " has " + std::to_string(train.cols));
  }
  set_train(out.data, take_rows(train, all_rows(train.rows)));
  set_test(out.data, take_rows(test, all_rows(test.rows)));
  return out;
}

}  // namespace nabla
