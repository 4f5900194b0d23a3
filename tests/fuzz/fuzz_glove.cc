// libFuzzer harness: GloVe text files (a word, then its vector's values, per line), read
// whole and keeping only some words. Bad input must end in DataError.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <unordered_map>

#include "nabla/data/idx.h"
#include "nabla/text/glove.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::unordered_map<std::string, std::int64_t> keep = {{"the", 0}, {",", 1}, {".", 2}};
  for (const auto* filter : {static_cast<decltype(&keep)>(nullptr), &keep}) {
    std::istringstream in(text);
    try {
      nabla::WordVectors v = nabla::parse_glove(in, "input.txt", filter);
      if (static_cast<std::int64_t>(v.values.size()) != v.size() * v.dim) __builtin_trap();
      for (std::int64_t i = 0; i < v.size(); ++i) {
        if (v.find(v.words[static_cast<std::size_t>(i)]) < 0) __builtin_trap();
      }
    } catch (const nabla::DataError&) {
    }
  }
  return 0;
}
