// nabla/glove.h — pretrained word vectors in GloVe's text format.
//
// One word a line: the word, then its d components, separated by single spaces:
//
//   the -0.038194 -0.24487 0.72812 ...      (GloVe 6B: d = 100, lower-cased words)
//
//   WordVectors glove = read_glove("data/glove/glove.6B.100d.txt");
//   glove.dim;                 // 100
//   glove.find("paris");       // its row, or -1
//
// d is read from the first line; every line must have it. A line with another count or
// with more than kMaxGloveDim components, a component that is not a finite number, a word
// given twice or an empty file throws DataError naming the file and line. Only a regular
// file is read. scripts/fetch_glove.sh fetches the full table.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <unordered_map>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"  // DataError

NABLA_API_BEGIN
namespace nabla {

// The most components a word vector may have. GloVe's have 50 to 300; d sizes every model
// built on the table (a window tagger's hidden layer has (2 window + 1) d rows), so a
// file cannot ask for gigabytes with one long first line.
constexpr std::int64_t kMaxGloveDim = 10000;

struct WordVectors {
  std::vector<std::string> words;
  std::int64_t dim = 0;
  std::vector<float> values;  // (words.size(), dim), row-major

  std::int64_t size() const { return static_cast<std::int64_t>(words.size()); }
  // The row of `word`, or -1.
  std::int64_t find(const std::string& word) const;
  const float* row(std::int64_t i) const { return values.data() + i * dim; }

  std::unordered_map<std::string, std::int64_t> index;  // word -> row
};

// Reads a GloVe text file. With `keep` non-empty, only the words in it are kept (the
// rest are still checked), so a 400,000-word table costs only the vocabulary's rows.
WordVectors read_glove(const std::string& path,
                       const std::unordered_map<std::string, std::int64_t>* keep = nullptr);
WordVectors parse_glove(std::istream& in, const std::string& name,
                        const std::unordered_map<std::string, std::int64_t>* keep = nullptr);

}  // namespace nabla
NABLA_API_END
