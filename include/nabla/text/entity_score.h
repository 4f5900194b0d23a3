// nabla/entity_score.h — named-entity scores the CoNLL way.
//
// An entity counts as found only when a predicted entity has exactly its span and its
// type. Precision = correct / predicted, recall = correct / gold, F1 their harmonic
// mean; overall and per type.
//
//   gold:      Paris/B-LOC is/O nice/O        -> one LOC entity, tokens [0, 1)
//   predicted: Paris/B-PER is/O nice/O        -> one PER entity: wrong type, so
//   precision 0, recall 0, F1 0 (a prediction of B-LOC would score 1, 1, 1)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

struct EntityCounts {
  std::int64_t gold = 0, predicted = 0, correct = 0;
  double precision() const;  // 0 when nothing was predicted
  double recall() const;     // 0 when there is nothing to find
  double f1() const;         // 0 when precision + recall is 0
};

struct EntityScores {
  EntityCounts overall;
  std::map<std::string, EntityCounts> by_type;  // every type seen in gold or predictions
};

// Scores predicted tags against gold tags, sentence by sentence (tags in IOB1, IOB2 or
// BIOES; see entity_spans in nabla/conll.h). The two must have the same sentences of
// the same lengths (ValueError otherwise).
EntityScores score_entities(const std::vector<std::vector<std::string>>& gold,
                            const std::vector<std::vector<std::string>>& predicted);

}  // namespace nabla
NABLA_API_END
