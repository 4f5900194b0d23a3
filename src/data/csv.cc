#include "nabla/data/csv.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "core/input_file.h"
#include "nabla/core/tensor.h"  // DataError

namespace nabla {

namespace {

// The fields of a line, split at commas, each with surrounding spaces trimmed.
void split_fields(const std::string& line, std::vector<std::string_view>& fields) {
  fields.clear();
  std::string_view rest(line);
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string_view field = rest.substr(0, comma);
    while (!field.empty() && (field.front() == ' ' || field.front() == '\t'))
      field.remove_prefix(1);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
    fields.push_back(field);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

// The field as a finite number, or false.
bool to_number(std::string_view field, double& value) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  const char* end = field.data() + field.size();
  auto [next, ec] = std::from_chars(field.data(), end, value);
  return ec == std::errc() && next == end && !field.empty() && std::isfinite(value);
}

std::string quoted(std::string_view field) {
  constexpr std::size_t kShown = 40;
  std::string text(field.substr(0, kShown));
  return "'" + text + (field.size() > kShown ? "...'" : "'");
}

// The rows of a CSV file whose first field is a class label in [0, max_classes), or with
// max_classes 0 a real-valued target.
LabeledRows parse_rows(std::istream& in, const std::string& name, std::int64_t max_classes) {
  LabeledRows out;
  std::string line;
  std::vector<std::string_view> fields;
  std::int64_t number = 0, width = 0, width_line = 0;
  auto fail = [&](const std::string& what) {
    throw DataError(name + ":" + std::to_string(number) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // A byte-order mark (some spreadsheets write one) is no part of the first field.
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    split_fields(line, fields);
    if (width == 0) {
      double label = 0;
      if (number == 1 && !to_number(fields[0], label)) {  // a column name, not a label
        out.had_header = true;
        continue;
      }
      if (fields.size() < 2) {
        fail(std::string("expected ") + (max_classes == 0 ? "a target" : "a label") +
             " and at least one feature, found 1 field");
      }
      width = static_cast<std::int64_t>(fields.size());
      width_line = number;
      out.cols = width - 1;
    } else if (static_cast<std::int64_t>(fields.size()) != width) {
      fail(std::to_string(fields.size()) + " fields; line " + std::to_string(width_line) + " has " +
           std::to_string(width));
    }
    // Field k (0-based) as a float32: a double beyond its range would become an infinity.
    auto number_at = [&](std::size_t k) {
      double v = 0;
      if (!to_number(fields[k], v)) {
        fail("field " + std::to_string(k + 1) + " " + quoted(fields[k]) +
             " is not a finite number");
      }
      const auto value = static_cast<float>(v);
      if (!std::isfinite(value)) {
        char largest[32];
        std::snprintf(largest, sizeof largest, "%.8g", double{std::numeric_limits<float>::max()});
        fail("field " + std::to_string(k + 1) + " " + quoted(fields[k]) +
             " is outside the range of float32 (magnitude at most " + largest + ")");
      }
      return value;
    };
    if (max_classes == 0) {
      out.values.push_back(number_at(0));
    } else {
      double label = 0;
      if (!to_number(fields[0], label) || label != std::floor(label) || label < 0 ||
          label >= static_cast<double>(max_classes)) {
        fail("label " + quoted(fields[0]) + " is not a whole number in [0, " +
             std::to_string(max_classes) + ")");
      }
      out.labels.push_back(static_cast<std::int64_t>(label));
      out.classes = std::max(out.classes, out.labels.back() + 1);
    }
    for (std::size_t k = 1; k < fields.size(); ++k) out.features.push_back(number_at(k));
    ++out.rows;
  }
  if (in.bad()) throw DataError(name + ": read error after line " + std::to_string(number));
  if (out.rows == 0) throw DataError(name + ": no examples (empty file?)");
  return out;
}

LabeledRows read_rows(const std::string& path, std::int64_t max_classes) {
  check_regular_file(path, "a CSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  return parse_rows(in, path, max_classes);
}

}  // namespace

LabeledRows parse_labeled_csv(std::istream& in, const std::string& name, std::int64_t max_classes) {
  if (max_classes < 1) throw ValueError("parse_labeled_csv: max_classes must be positive");
  return parse_rows(in, name, max_classes);
}

LabeledRows read_labeled_csv(const std::string& path, std::int64_t max_classes) {
  if (max_classes < 1) throw ValueError("read_labeled_csv: max_classes must be positive");
  return read_rows(path, max_classes);
}

LabeledRows parse_valued_csv(std::istream& in, const std::string& name) {
  return parse_rows(in, name, 0);
}

LabeledRows read_valued_csv(const std::string& path) { return read_rows(path, 0); }

}  // namespace nabla
