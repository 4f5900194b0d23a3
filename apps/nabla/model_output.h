// What `nabla eval` and `nabla predict` print: the textbook's lines, or with --json one
// JSON document on stdout for scripts (jq '.test_acc'):
//   eval:    {"model": "two-layer-net 784-50-10 relu, softmax loss", "iterations": 10000,
//             "test_acc": 0.9718, "test_size": 10000, "train_acc": ..., "train_size": ...}
//            (train_* with --train; iterations null when the file does not say); a
//            regression model on a CSV file: test_rmse, test_mae and test_size instead
//            of test_acc
//   predict: {"model": "...", "predictions": [{"input": "digit.png", "class": 7,
//             "probabilities": [p0, ..., p9]}, {"input": "test image 3", "index": 3,
//             "class": 0, "label": 0, "probabilities": [...]}]}; a regression model's:
//            [{"input": "rows.csv:2", "value": 0.731, "target": 0.69}, ...] (target when
//            the row has one)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nabla::cli {

struct EvalReport {
  std::string model;  // ModelSpec::describe()
  std::optional<std::int64_t> iterations;
  std::optional<double> test_rmse, test_mae;  // a regression model's, instead of test_acc
  double test_acc = 0;
  std::int64_t test_size = 0;
  std::optional<double> train_acc;  // with --train
  std::int64_t train_size = 0;
};

struct Prediction {
  std::string input;                  // a file, or "test image N"
  std::optional<std::int64_t> index;  // N for a test image
  std::int64_t predicted = 0;
  std::optional<double> value, target;  // a regression model's output (and the row's target)
  std::optional<int> label;           // a test image's label
  std::vector<double> probabilities;  // one per class
};

void print_eval(const EvalReport& r, bool json);
void print_predictions(const std::string& model, const std::vector<Prediction>& predictions,
                       bool json);

}  // namespace nabla::cli
