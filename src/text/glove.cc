#include "nabla/text/glove.h"

#include <charconv>
#include <cmath>
#include <fstream>

#include "core/input_file.h"
#include "nabla/core/tensor.h"  // DataError

namespace nabla {

std::int64_t WordVectors::find(const std::string& word) const {
  auto it = index.find(word);
  return it == index.end() ? -1 : it->second;
}

WordVectors parse_glove(std::istream& in, const std::string& name,
                        const std::unordered_map<std::string, std::int64_t>* keep) {
  WordVectors out;
  std::unordered_map<std::string, std::int64_t> first_line;  // word -> its line
  std::string line;
  std::vector<float> row;
  std::int64_t number = 0;
  auto fail = [&](const std::string& what) {
    throw DataError(name + ":" + std::to_string(number) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    const std::string::size_type space = line.find(' ');
    if (line.empty() || space == 0 || space == std::string::npos) {
      fail("expected a word and its components, found '" + line.substr(0, 60) + "'");
    }
    std::string word = line.substr(0, space);
    row.clear();
    const char* p = line.data() + space;
    const char* end = line.data() + line.size();
    while (p < end) {
      ++p;  // the space before a component
      if (*p == ' ') fail("components must be separated by single spaces");
      float v = 0;
      auto [next, ec] = std::from_chars(p, end, v);
      if (ec != std::errc() || next == p || (next < end && *next != ' ') || !std::isfinite(v)) {
        const char* stop = p;
        while (stop < end && *stop != ' ') ++stop;
        fail("component " + std::to_string(row.size() + 1) + " of '" + word +
             "' is not a finite number: '" + std::string(p, stop) + "'");
      }
      row.push_back(v);
      if (static_cast<std::int64_t>(row.size()) > kMaxGloveDim) {
        fail("'" + word + "' has more than " + std::to_string(kMaxGloveDim) +
             " components, the most a word vector may have");
      }
      p = next;
    }
    if (out.dim == 0) {
      if (row.empty()) fail("'" + word + "' has no components");
      out.dim = static_cast<std::int64_t>(row.size());
    } else if (static_cast<std::int64_t>(row.size()) != out.dim) {
      fail("'" + word + "' has " + std::to_string(row.size()) + " components; line 1 has " +
           std::to_string(out.dim));
    }
    auto [seen, added] = first_line.emplace(word, number);
    if (!added) fail("'" + word + "' again (first at line " + std::to_string(seen->second) + ")");
    if (keep != nullptr && keep->find(word) == keep->end()) continue;
    out.index.emplace(word, out.size());
    out.words.push_back(std::move(word));
    out.values.insert(out.values.end(), row.begin(), row.end());
  }
  if (in.bad()) throw DataError(name + ": read error after line " + std::to_string(number));
  if (number == 0) throw DataError(name + ": no word vectors (empty file?)");
  return out;
}

WordVectors read_glove(const std::string& path,
                       const std::unordered_map<std::string, std::int64_t>* keep) {
  check_regular_file(path, "a word-vector file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  return parse_glove(in, path, keep);
}

}  // namespace nabla
