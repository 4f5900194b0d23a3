// libFuzzer harness: labelled CSV files (a label, then numeric features, per line; an
// optional header), read as a classification's and as a regression's (a real-valued
// target first). Bad input must end in DataError.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "nabla/data/csv.h"
#include "nabla/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    nabla::LabeledRows r = nabla::parse_labeled_csv(in, "input.csv", 16);
    if (static_cast<std::int64_t>(r.features.size()) != r.rows * r.cols ||
        static_cast<std::int64_t>(r.labels.size()) != r.rows) {
      __builtin_trap();
    }
    for (std::int64_t label : r.labels) {
      if (label < 0 || label >= r.classes || r.classes > 16) __builtin_trap();
    }
  } catch (const nabla::DataError&) {
  }
  std::istringstream again(std::string(reinterpret_cast<const char*>(data), size));
  try {
    nabla::LabeledRows r = nabla::parse_valued_csv(again, "input.csv");
    if (static_cast<std::int64_t>(r.features.size()) != r.rows * r.cols ||
        static_cast<std::int64_t>(r.values.size()) != r.rows) {
      __builtin_trap();
    }
  } catch (const nabla::DataError&) {
  }
  return 0;
}
