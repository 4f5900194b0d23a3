// "Did you mean ...?" for a mistyped command or option.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace nabla::cli {

// The number of single-character insertions, deletions, substitutions and swaps of two
// neighbours that turn a into b (optimal string alignment distance): "trian" -> "train" 1.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word`, if it is close enough to be a likely typo: at most a
// third of the word's letters wrong (at least one), or `word` a prefix of only it. Ties go
// to the first candidate.
std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates);

}  // namespace nabla::cli
