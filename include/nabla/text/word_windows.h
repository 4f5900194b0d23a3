// nabla/word_windows.h — words as integer ids, and the windows a window classifier
// reads.
//
// Window classification tags each word from the words around it: with window 2 the
// word "Paris" in "museums in Paris are amazing" is read as the five ids of
// (museums, in, Paris, are, amazing). Beyond a sentence's edges the window holds the
// padding id.
//
//   Vocabulary vocab;                         // ids 0 = <pad>, 1 = <unk>
//   for (auto& w : words) vocab.add(w);
//   std::vector<std::int64_t> ids = vocab.ids(sentence);       // unknown words -> 1
//   std::vector<std::int64_t> x = window_ids(ids, 2);          // 5 ids per token
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

class Vocabulary {
 public:
  static constexpr std::int64_t kPad = 0;      // beyond a sentence's edges
  static constexpr std::int64_t kUnknown = 1;  // a word not in the vocabulary

  Vocabulary();
  // The word's id, adding it if it is new.
  std::int64_t add(const std::string& word);
  // The word's id, or kUnknown.
  std::int64_t id(const std::string& word) const;
  std::vector<std::int64_t> ids(const std::vector<std::string>& words) const;
  const std::string& word(std::int64_t id) const;
  std::int64_t size() const { return static_cast<std::int64_t>(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, std::int64_t> ids_;
};

// For each of the sentence's n tokens, the ids of the 2 * window + 1 tokens centred on
// it, kPad where the window reaches past an edge: n * (2 * window + 1) ids, row-major.
std::vector<std::int64_t> window_ids(const std::vector<std::int64_t>& sentence, int window);

// The word as GloVe 6B spells it: ASCII letters lower-cased.
std::string lower_case(const std::string& word);

// What lower-casing loses, as a small class id (after Collobert & Weston's caps
// feature, with Twitter's @mentions, #hashtags and links):
enum class WordShape : std::int64_t {
  kLower,    // paris
  kCapital,  // Paris
  kUpper,    // PARIS (two letters or more)
  kMixed,    // iPhone, McDonald
  kNumber,   // 2016, 3.5 (digits, no letters)
  kMention,  // @user
  kHashtag,  // #tag
  kLink,     // http://...
  kOther,    // punctuation, emoji
};
constexpr std::int64_t kWordShapes = 9;
WordShape word_shape(const std::string& word);

}  // namespace nabla
NABLA_API_END
