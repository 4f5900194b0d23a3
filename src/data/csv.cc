// Labelled rows from a CSV file: label, then numeric features; errors name file and line.
#include "nabla/csv.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace nabla {

namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = line.find(',', begin);
    std::string field = line.substr(begin, comma == std::string::npos ? comma : comma - begin);
    // surrounding spaces are allowed
    const std::size_t first = field.find_first_not_of(" \t");
    const std::size_t last = field.find_last_not_of(" \t");
    fields.push_back(first == std::string::npos ? "" : field.substr(first, last - first + 1));
    if (comma == std::string::npos) return fields;
    begin = comma + 1;
  }
}

// The whole field as a finite number.
bool parse_number(const std::string& field, double& value) {
  if (field.empty()) return false;
  errno = 0;
  char* end = nullptr;
  value = std::strtod(field.c_str(), &end);
  return end == field.c_str() + field.size() && errno == 0 && std::isfinite(value);
}

// The whole field as a whole number >= 0 (written without a fraction: "3", not "3.0").
bool parse_label(const std::string& field, std::int64_t& label) {
  if (field.empty() || field.size() > 18 ||
      field.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  label = std::stoll(field);
  return true;
}

}  // namespace

LabelledRows read_labelled_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::vector<float> values;
  LabelledRows rows;
  std::int64_t width = -1;     // features per row, from the first row
  std::int64_t first_row = 0;  // its line
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // a blank line
    const std::vector<std::string> fields = split_fields(line);
    const std::string where = path + ":" + std::to_string(number) + ": ";
    std::int64_t label = 0;
    if (!parse_label(fields[0], label)) {
      double unused = 0;
      if (number == 1 && !parse_number(fields[0], unused)) continue;  // a header line
      throw DataError(where + "the label '" + fields[0] + "' is not a whole number >= 0");
    }
    const auto features = static_cast<std::int64_t>(fields.size()) - 1;
    if (width < 0) {
      if (features < 1) throw DataError(where + "a label and no features");
      width = features;
      first_row = number;
    } else if (features != width) {
      throw DataError(where + std::to_string(features + 1) + " fields, expected " +
                      std::to_string(width + 1) + " (as on line " + std::to_string(first_row) +
                      ")");
    }
    for (std::size_t i = 1; i < fields.size(); ++i) {
      double value = 0;
      if (!parse_number(fields[i], value)) {
        throw DataError(where + "field " + std::to_string(i + 1) + " '" + fields[i] +
                        "' is not a number");
      }
      values.push_back(static_cast<float>(value));
    }
    rows.labels.push_back(label);
    rows.lines.push_back(number);
  }
  if (in.bad()) throw DataError(path + ": read failed");
  if (rows.labels.empty()) throw DataError(path + ": no data rows");
  const auto n = static_cast<std::int64_t>(rows.labels.size());
  rows.features = Tensor::empty({n, width}, DType::f32);
  std::memcpy(rows.features.data<float>(), values.data(), values.size() * sizeof(float));
  return rows;
}

LabelledRows select_rows(const LabelledRows& from, const std::vector<std::int64_t>& rows) {
  const std::int64_t d = from.features.size(1);
  LabelledRows out;
  out.features = Tensor::empty({static_cast<std::int64_t>(rows.size()), d}, DType::f32);
  float* dst = out.features.data<float>();
  for (std::int64_t r : rows) {
    std::memcpy(dst, from.features.data<float>() + r * d,
                static_cast<std::size_t>(d) * sizeof(float));
    dst += d;
    out.labels.push_back(from.labels[static_cast<std::size_t>(r)]);
    out.lines.push_back(from.lines[static_cast<std::size_t>(r)]);
  }
  return out;
}

CsvSplit load_csv_split(const std::string& train_path, const std::string& test_path,
                        std::uint64_t seed) {
  CsvSplit split;
  LabelledRows all = read_labelled_csv(train_path);
  for (std::int64_t label : all.labels) split.classes = std::max(split.classes, label + 1);
  if (split.classes < 2) {
    throw DataError(train_path + ": every label is 0; training needs at least 2 classes");
  }
  if (test_path.empty()) {
    const auto n = static_cast<std::int64_t>(all.labels.size());
    if (n < 2) throw DataError(train_path + ": 1 row; holding out a test set needs at least 2");
    // A seeded shuffle (Fisher-Yates); its last sixth is the test set.
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    Rng rng(seed);
    for (std::int64_t i = n - 1; i > 0; --i) {
      std::swap(order[static_cast<std::size_t>(i)],
                order[static_cast<std::size_t>(rng.below(i + 1))]);
    }
    const std::int64_t test = std::max<std::int64_t>(n / 6, 1);
    std::vector<std::int64_t> train_rows(order.begin(), order.end() - test);
    std::vector<std::int64_t> test_rows(order.end() - test, order.end());
    split.train = select_rows(all, train_rows);
    split.test = select_rows(all, test_rows);
    split.held_out = true;
    return split;
  }
  split.train = std::move(all);
  split.test = read_labelled_csv(test_path);
  if (split.test.features.size(1) != split.train.features.size(1)) {
    throw DataError(test_path + ":" + std::to_string(split.test.lines.front()) + ": " +
                    std::to_string(split.test.features.size(1) + 1) + " fields, expected " +
                    std::to_string(split.train.features.size(1) + 1) + " (as in " + train_path +
                    ")");
  }
  for (std::size_t i = 0; i < split.test.labels.size(); ++i) {
    if (split.test.labels[i] >= split.classes) {
      throw DataError(test_path + ":" + std::to_string(split.test.lines[i]) + ": label " +
                      std::to_string(split.test.labels[i]) + " is out of range: " + train_path +
                      " has classes 0 to " + std::to_string(split.classes - 1));
    }
  }
  return split;
}

}  // namespace nabla
