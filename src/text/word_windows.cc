#include "nabla/text/word_windows.h"

#include "nabla/core/tensor.h"  // ValueError

namespace nabla {

Vocabulary::Vocabulary() {
  add("<pad>");
  add("<unk>");
}

std::int64_t Vocabulary::add(const std::string& word) {
  auto [it, added] = ids_.emplace(word, size());
  if (added) words_.push_back(word);
  return it->second;
}

std::int64_t Vocabulary::id(const std::string& word) const {
  auto it = ids_.find(word);
  return it == ids_.end() ? kUnknown : it->second;
}

std::vector<std::int64_t> Vocabulary::ids(const std::vector<std::string>& words) const {
  std::vector<std::int64_t> out;
  out.reserve(words.size());
  for (const std::string& w : words) out.push_back(id(w));
  return out;
}

const std::string& Vocabulary::word(std::int64_t id) const {
  if (id < 0 || id >= size()) {
    throw ValueError("Vocabulary::word: id " + std::to_string(id) + " outside [0, " +
                     std::to_string(size()) + ")");
  }
  return words_[static_cast<std::size_t>(id)];
}

std::vector<std::int64_t> window_ids(const std::vector<std::int64_t>& sentence, int window) {
  if (window < 0) throw ValueError("window_ids: window " + std::to_string(window) + " < 0");
  const auto n = static_cast<std::int64_t>(sentence.size());
  const std::int64_t width = 2 * std::int64_t{window} + 1;
  std::vector<std::int64_t> out(static_cast<std::size_t>(n * width), Vocabulary::kPad);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = -window; k <= window; ++k) {
      if (i + k >= 0 && i + k < n) {
        out[static_cast<std::size_t>(i * width + k + window)] =
            sentence[static_cast<std::size_t>(i + k)];
      }
    }
  }
  return out;
}

std::string lower_case(const std::string& word) {
  std::string out = word;
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

WordShape word_shape(const std::string& word) {
  if (word.size() > 1 && word[0] == '@') return WordShape::kMention;
  if (word.size() > 1 && word[0] == '#') return WordShape::kHashtag;
  if (word.rfind("http", 0) == 0 || word.rfind("www.", 0) == 0) return WordShape::kLink;
  int upper = 0, lower = 0, digits = 0;
  for (char c : word) {
    upper += c >= 'A' && c <= 'Z';
    lower += c >= 'a' && c <= 'z';
    digits += c >= '0' && c <= '9';
  }
  if (upper + lower == 0) return digits > 0 ? WordShape::kNumber : WordShape::kOther;
  if (upper == 0) return WordShape::kLower;
  if (lower == 0) return upper >= 2 ? WordShape::kUpper : WordShape::kCapital;
  const bool first_upper = word[0] >= 'A' && word[0] <= 'Z';
  // Capitalised: only the first letter is upper case.
  return first_upper && upper == 1 ? WordShape::kCapital : WordShape::kMixed;
}

}  // namespace nabla
