// "Did you mean ...?" (suggest.h).
#include "suggest.h"

#include <algorithm>

namespace nabla::cli {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // d[i][j]: the distance between the first i letters of a and the first j of b.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t substitute = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, substitute});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);  // two neighbours swapped
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates) {
  // Leading dashes are the same for every option: only the name counts.
  auto name = [](const std::string& s) {
    return s.substr(std::min(s.find_first_not_of('-'), s.size()));
  };
  const std::string w = name(word);
  if (w.empty()) return std::nullopt;
  const std::size_t allowed = std::max<std::size_t>(1, w.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = allowed + 1;
  std::vector<std::string> prefixed;
  for (const std::string& c : candidates) {
    std::size_t distance = edit_distance(w, name(c));
    if (distance < best_distance) {
      best = c;
      best_distance = distance;
    }
    if (name(c).rfind(w, 0) == 0) prefixed.push_back(c);
  }
  if (best) return best;
  if (prefixed.size() == 1) return prefixed[0];
  return std::nullopt;
}

}  // namespace nabla::cli
