// WindowTagger: text to window ids, scores to tags, and its model files.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "nabla/core/tensor.h"  // DataError
#include "nabla/nn/crf.h"
#include "nabla/ops/crf.h"
#include "nabla/ops/ops.h"     // argmax_rows
#include "nabla/tasks/ner.h"

namespace nabla {
namespace {

// The line of the n-th token (0-based) of a CoNLL file, counting as read_conll reads it;
// 0 when the file cannot be read again.
std::int64_t token_line(const std::string& path, std::int64_t n) {
  std::ifstream in(path);
  std::string line;
  std::int64_t number = 0, tokens = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.rfind("-DOCSTART-", 0) == 0) continue;
    if (tokens++ == n) return number;
  }
  return 0;
}

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : "\n") + s;
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> tag_names(const std::vector<std::int64_t>& ids,
                                                const std::vector<std::int64_t>& lengths,
                                                const std::vector<std::string>& tags) {
  std::vector<std::vector<std::string>> out;
  std::size_t at = 0;
  for (std::int64_t len : lengths) {
    std::vector<std::string>& s = out.emplace_back();
    for (std::int64_t i = 0; i < len; ++i, ++at) {
      if (at >= ids.size() || ids[at] < 0 || ids[at] >= static_cast<std::int64_t>(tags.size())) {
        throw ValueError("tag_names: " + std::to_string(ids.size()) + " tag ids of " +
                         std::to_string(tags.size()) + " tags for the sentences' tokens");
      }
      s.push_back(tags[static_cast<std::size_t>(ids[at])]);
    }
  }
  return out;
}

// Whether byte c starts a UTF-8 character (is not a continuation byte 10xxxxxx).
bool starts_character(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

std::string prefix_of(const std::string& token) {
  // The first kAffixLength characters (UTF-8: whole characters, never a part of one).
  const std::string w = lower_case(token);
  std::size_t end = 0, count = 0;
  while (end < w.size() && (count < kAffixLength || !starts_character(w[end]))) {
    if (starts_character(w[end])) ++count;
    ++end;
  }
  std::string out(1, '<');
  out.append(w, 0, end);
  return out;
}

std::string suffix_of(const std::string& token) {
  // The last kAffixLength characters.
  const std::string w = lower_case(token);
  std::size_t begin = w.size(), count = 0;
  while (begin > 0 && count < kAffixLength) {
    --begin;
    if (starts_character(w[begin])) ++count;
  }
  std::string out(1, '>');
  out.append(w, begin, std::string::npos);
  return out;
}

std::vector<std::string> characters_of(const std::string& token) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (starts_character(token[i]) || out.empty()) out.emplace_back();
    out.back() += token[i];
  }
  return out;
}

void spell(const std::string& token, const Vocabulary& chars, std::int64_t* ids) {
  std::fill(ids, ids + kWordLength, Vocabulary::kPad);
  std::int64_t at = 1;
  for (const std::string& c : characters_of(token)) {
    if (at == kWordLength - 1) break;
    ids[at++] = chars.id(c);
  }
}

WindowTagger::WindowTagger(Vocabulary words, std::vector<std::string> tags, ModelSpec spec,
                           Sequential net, Vocabulary affixes, Vocabulary chars)
    : vocabulary_(std::move(words)),
      affixes_(std::move(affixes)),
      chars_(std::move(chars)),
      tags_(std::move(tags)),
      spec_(std::move(spec)),
      net_(std::move(net)) {
  if (spec_.kind != "window-tagger" || spec_.layers.empty() ||
      spec_.layers.front().kind != "window_embedding") {
    throw ValueError("WindowTagger: the model " + spec_.describe() + " is not a window tagger");
  }
  const LayerOptions& first = spec_.layers.front().options;
  width_ = static_cast<std::int64_t>(first.at("width"));
  if (static_cast<std::int64_t>(first.at("vocab")) != vocabulary_.size() ||
      spec_.classes != static_cast<std::int64_t>(tags_.size())) {
    throw ValueError("WindowTagger: " + std::to_string(vocabulary_.size()) + " words and " +
                     std::to_string(tags_.size()) + " tags do not fit the model " +
                     spec_.describe());
  }
  if (net_.size() == 0 || dynamic_cast<WindowEmbedding*>(&net_.layer(0)) == nullptr) {
    throw ValueError("WindowTagger: the network does not start with a window embedding");
  }
  const auto affix_rows = static_cast<std::int64_t>(first.count("affix_dim") != 0 &&
                                                            first.at("affix_dim") > 0
                                                        ? first.at("affixes")
                                                        : 0);
  has_affixes_ = affix_rows > 0;
  if (embedding().has_affixes() != has_affixes_ ||
      (affix_rows > 0 && affix_rows != affixes_.size())) {
    throw ValueError("WindowTagger: " + std::to_string(affixes_.size()) +
                     " affixes do not fit the model " + spec_.describe());
  }
  const auto char_rows = static_cast<std::int64_t>(
      first.count("char_dim") != 0 && first.at("char_dim") > 0 ? first.at("chars") : 0);
  has_chars_ = char_rows > 0;
  if (embedding().has_characters() != has_chars_ ||
      (has_chars_ && (char_rows != chars_.size() || embedding().word_length() != kWordLength))) {
    throw ValueError("WindowTagger: " + std::to_string(chars_.size()) +
                     " characters in words of " + std::to_string(kWordLength) +
                     " do not fit the model " + spec_.describe());
  }
  if (sentence_level()) {
    auto* last = dynamic_cast<TagTransitions*>(&net_.layer(net_.size() - 1));
    if (last == nullptr || last->tags() != static_cast<std::int64_t>(tags_.size())) {
      throw ValueError("WindowTagger: a sentence-level tagger's network ends with the "
                       "transitions of its " + std::to_string(tags_.size()) + " tags");
    }
  }
  for (std::size_t i = 0; i < tags_.size(); ++i) {
    if (!tag_ids_.emplace(tags_[i], static_cast<std::int64_t>(i)).second) {
      throw ValueError("WindowTagger: tag '" + tags_[i] + "' given twice");
    }
  }
}

NerExamples WindowTagger::encode_untagged(
    const std::vector<std::vector<std::string>>& sentences) const {
  NerExamples out;
  std::int64_t n = 0;
  for (const auto& s : sentences) n += static_cast<std::int64_t>(s.size());
  const std::int64_t k = width();
  const bool affixes = has_affixes_;
  const std::int64_t cols = (affixes ? 4 : 2) * k + (has_chars_ ? k * kWordLength : 0);
  out.ids = Tensor({n, cols}, DType::i64);
  std::int64_t* row = out.ids.data<std::int64_t>();
  std::vector<std::int64_t> ids, shape_ids, prefix_ids, suffix_ids, pi, xi, spelled;
  for (const auto& s : sentences) {
    if (has_chars_) {
      // each token's character ids, kWordLength a token
      spelled.resize(s.size() * static_cast<std::size_t>(kWordLength));
      for (std::size_t t = 0; t < s.size(); ++t) {
        spell(s[t], chars_, spelled.data() + t * static_cast<std::size_t>(kWordLength));
      }
    }
    ids.clear();
    shape_ids.clear();
    prefix_ids.clear();
    suffix_ids.clear();
    for (const std::string& token : s) {
      ids.push_back(vocabulary_.id(lower_case(token)));
      shape_ids.push_back(1 + static_cast<std::int64_t>(word_shape(token)));  // 0: padding
      if (affixes) {
        prefix_ids.push_back(affixes_.id(prefix_of(token)));
        suffix_ids.push_back(affixes_.id(suffix_of(token)));
      }
    }
    const std::vector<std::int64_t> wi = window_ids(ids, window());
    const std::vector<std::int64_t> si = window_ids(shape_ids, window());
    if (affixes) {
      pi = window_ids(prefix_ids, window());
      xi = window_ids(suffix_ids, window());
    }
    for (std::size_t t = 0; t < s.size(); ++t, row += cols) {
      const auto at = static_cast<std::ptrdiff_t>(t) * k;
      std::copy_n(wi.begin() + at, k, row);
      std::copy_n(si.begin() + at, k, row + k);
      if (affixes) {
        std::copy_n(pi.begin() + at, k, row + 2 * k);
        std::copy_n(xi.begin() + at, k, row + 3 * k);
      }
      if (has_chars_) {
        // the window's tokens t - window .. t + window, padding beyond the sentence
        std::int64_t* to = row + (affixes ? 4 : 2) * k;
        for (std::int64_t j = 0; j < k; ++j, to += kWordLength) {
          const auto u = static_cast<std::int64_t>(t) + j - window();
          if (u < 0 || u >= static_cast<std::int64_t>(s.size())) {
            std::fill(to, to + kWordLength, Vocabulary::kPad);
          } else {
            std::copy_n(spelled.begin() + u * kWordLength, kWordLength, to);
          }
        }
      }
    }
    out.lengths.push_back(static_cast<std::int64_t>(s.size()));
  }
  return out;
}

NerExamples WindowTagger::encode(const std::vector<TaggedSentence>& sentences,
                                 const std::string& source) const {
  std::vector<std::vector<std::string>> tokens;
  tokens.reserve(sentences.size());
  for (const TaggedSentence& s : sentences) tokens.push_back(s.tokens);
  NerExamples out = encode_untagged(tokens);
  out.labels.reserve(static_cast<std::size_t>(out.size()));
  for (const TaggedSentence& s : sentences) {
    for (const std::string& tag : s.tags) {
      auto it = tag_ids_.find(tag);
      if (it == tag_ids_.end()) {
        const auto at = static_cast<std::int64_t>(out.labels.size());
        const std::int64_t line = token_line(source, at);
        std::string known;
        for (const std::string& t : tags_) known += (known.empty() ? "" : " ") + t;
        throw DataError(source + (line > 0 ? ":" + std::to_string(line) : "") + ": tag '" + tag +
                        "' is not one the model knows (" + known + ")");
      }
      out.labels.push_back(it->second);
    }
  }
  return out;
}

std::vector<std::int64_t> WindowTagger::predict(const NerExamples& examples, bool per_token) {
  const std::int64_t n = examples.size(), cols = examples.ids.size(1), chunk = 4096;
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n));
  Tensor ids;
  std::vector<std::int64_t> lengths;
  // Blocks of whole sentences, of `chunk` tokens or more (a decoder sees whole sentences).
  std::size_t next = 0;
  for (std::int64_t begin = 0; begin < n;) {
    std::int64_t m = 0;
    lengths.clear();
    while (next < examples.lengths.size() && (m < chunk || lengths.empty())) {
      lengths.push_back(examples.lengths[next]);
      m += examples.lengths[next++];
    }
    if (lengths.empty() || begin + m > n) m = n - begin;  // (lengths short of the tokens)
    ids.resize({m, cols}, DType::i64);
    std::memcpy(ids.raw(), examples.ids.data<std::int64_t>() + begin * cols, ids.nbytes());
    const Tensor scores = net_.predict(ids);
    std::vector<std::int64_t> best;
    if (!sentence_level()) {
      best = argmax_rows(scores);
    } else if (per_token) {
      best = argmax_rows(sentence_scores(scores).emissions);
    } else {
      const SentenceScores s = sentence_scores(scores);
      best = viterbi_decode(s.emissions, s.transitions, lengths);
    }
    out.insert(out.end(), best.begin(), best.end());
    begin += m;
  }
  return out;
}

std::vector<std::vector<std::string>> WindowTagger::tag(const NerExamples& examples) {
  return tag_names(predict(examples), examples.lengths, tags_);
}

EntityScores WindowTagger::score(const std::vector<TaggedSentence>& sentences,
                                 const std::string& source) {
  std::vector<std::vector<std::string>> gold;
  gold.reserve(sentences.size());
  for (const TaggedSentence& s : sentences) gold.push_back(s.tags);
  return score_entities(gold, tag(encode(sentences, source)));
}

std::map<std::string, std::string> WindowTagger::metadata() const {
  std::map<std::string, std::string> out = {{"ner.vocabulary", join_lines(vocabulary_.words())},
                                            {"ner.tags", join_lines(tags_)},
                                            {"ner.window", std::to_string(window())}};
  if (affixes_.size() > 2) out["ner.affixes"] = join_lines(affixes_.words());
  if (has_chars_) out["ner.chars"] = join_lines(chars_.words());
  return out;
}

WindowTagger load_window_tagger(const std::string& path) {
  LoadedModel m = load_model(path);
  if (m.spec.kind != "window-tagger") {
    throw DataError(path + ": a " + m.spec.kind +
                    " network (made by `nabla train`), not a window tagger; `nabla eval` and "
                    "`nabla predict` take it");
  }
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = m.metadata.find(key);
    if (it == m.metadata.end()) {
      throw DataError(path + ": a window tagger without its '" + key + "' (metadata)");
    }
    return it->second;
  };
  const std::vector<std::string> words = split_lines(get("ner.vocabulary"));
  if (words.size() < 2 || words[0] != "<pad>" || words[1] != "<unk>") {
    throw DataError(path + ": the vocabulary does not start with <pad>, <unk>");
  }
  Vocabulary vocab;
  for (std::size_t i = 2; i < words.size(); ++i) vocab.add(words[i]);
  if (vocab.size() != static_cast<std::int64_t>(words.size())) {
    throw DataError(path + ": the vocabulary lists a word twice");
  }
  Vocabulary affixes;
  if (m.metadata.count("ner.affixes") != 0) {
    const std::vector<std::string> lines = split_lines(m.metadata.at("ner.affixes"));
    for (std::size_t i = 2; i < lines.size(); ++i) affixes.add(lines[i]);
    if (lines.size() < 2 || affixes.size() != static_cast<std::int64_t>(lines.size())) {
      throw DataError(path + ": the affixes do not start with <pad>, <unk> or list one twice");
    }
  }
  Vocabulary chars;
  if (m.metadata.count("ner.chars") != 0) {
    const std::vector<std::string> lines = split_lines(m.metadata.at("ner.chars"));
    for (std::size_t i = 2; i < lines.size(); ++i) chars.add(lines[i]);
    if (lines.size() < 2 || chars.size() != static_cast<std::int64_t>(lines.size())) {
      throw DataError(path + ": the characters do not start with <pad>, <unk> or list one twice");
    }
  }
  try {
    return WindowTagger(std::move(vocab), split_lines(get("ner.tags")), std::move(m.spec),
                        std::move(m.net), std::move(affixes), std::move(chars));
  } catch (const ValueError& e) {
    throw DataError(path + ": " + e.what());
  }
}

}  // namespace nabla
