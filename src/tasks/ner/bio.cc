// IOB2's constraints on tag sequences: which transitions it allows, and sentences that
// break it.
#include <map>
#include <string>

#include "nabla/nn/crf.h"
#include "nabla/tasks/ner.h"

namespace nabla {
namespace {

// "I-PER" -> "PER"; "" for a tag that is no inside tag.
std::string inside_type(const std::string& tag) {
  return tag.rfind("I-", 0) == 0 ? tag.substr(2) : std::string();
}

// Whether `tag` may follow `previous` ("" for the sentence's start).
bool bio_follows(const std::string& previous, const std::string& tag) {
  const std::string type = inside_type(tag);
  if (type.empty()) return true;
  return previous == "B-" + type || previous == "I-" + type;
}

}  // namespace

Tensor bio_allowed(const std::vector<std::string>& tags, DType dtype,
                   const std::vector<std::vector<std::string>>& also) {
  const auto k = static_cast<std::int64_t>(tags.size());
  Tensor allowed = Tensor::ones({k + 2, k}, dtype);
  std::map<std::string, std::int64_t> id;
  for (std::int64_t j = 0; j < k; ++j) {
    id[tags[static_cast<std::size_t>(j)]] = j;
    allowed.set(k * k + j, bio_follows("", tags[static_cast<std::size_t>(j)]) ? 1.0 : 0.0);
    for (std::int64_t i = 0; i < k; ++i) {
      const bool ok =
          bio_follows(tags[static_cast<std::size_t>(i)], tags[static_cast<std::size_t>(j)]);
      allowed.set(i * k + j, ok ? 1.0 : 0.0);
    }
  }
  for (const std::vector<std::string>& s : also) {
    for (std::size_t t = 0; t < s.size(); ++t) {
      auto to = id.find(s[t]);
      if (to == id.end()) continue;
      if (t == 0) {
        allowed.set(k * k + to->second, 1.0);
        continue;
      }
      auto from = id.find(s[t - 1]);
      if (from != id.end()) allowed.set(from->second * k + to->second, 1.0);
    }
  }
  return allowed;
}

std::int64_t count_invalid_bio(const std::vector<std::vector<std::string>>& tagged) {
  std::int64_t invalid = 0;
  for (const std::vector<std::string>& s : tagged) {
    for (std::size_t t = 0; t < s.size(); ++t) {
      if (!bio_follows(t == 0 ? std::string() : s[t - 1], s[t])) {
        ++invalid;
        break;
      }
    }
  }
  return invalid;
}

}  // namespace nabla
