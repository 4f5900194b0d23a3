#include "nabla/text/entity_score.h"

#include <set>
#include <tuple>

#include "nabla/core/tensor.h"  // ValueError
#include "nabla/text/conll.h"

namespace nabla {

double EntityCounts::precision() const {
  return predicted == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(predicted);
}

double EntityCounts::recall() const {
  return gold == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(gold);
}

double EntityCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

EntityScores score_entities(const std::vector<std::vector<std::string>>& gold,
                            const std::vector<std::vector<std::string>>& predicted) {
  if (gold.size() != predicted.size()) {
    throw ValueError("score_entities: " + std::to_string(gold.size()) + " gold sentences but " +
                     std::to_string(predicted.size()) + " predicted");
  }
  EntityScores scores;
  auto count = [&](const std::string& type, std::int64_t EntityCounts::*field) {
    scores.overall.*field += 1;
    scores.by_type[type].*field += 1;
  };
  for (std::size_t s = 0; s < gold.size(); ++s) {
    if (gold[s].size() != predicted[s].size()) {
      throw ValueError("score_entities: sentence " + std::to_string(s) + " has " +
                       std::to_string(gold[s].size()) + " gold tags but " +
                       std::to_string(predicted[s].size()) + " predicted");
    }
    using Key = std::tuple<std::int64_t, std::int64_t, std::string>;
    std::set<Key> gold_spans;
    for (const EntitySpan& e : entity_spans(gold[s])) {
      gold_spans.emplace(e.begin, e.end, e.type);
      count(e.type, &EntityCounts::gold);
    }
    for (const EntitySpan& e : entity_spans(predicted[s])) {
      count(e.type, &EntityCounts::predicted);
      if (gold_spans.count({e.begin, e.end, e.type}) != 0) count(e.type, &EntityCounts::correct);
    }
  }
  return scores;
}

}  // namespace nabla
