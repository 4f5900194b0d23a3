// The one loop behind every evaluate_accuracy: examples predicted block by block, the
// correct ones counted.
#ifndef NABLA_SRC_TRAIN_ACCURACY_IN_BLOCKS_H_
#define NABLA_SRC_TRAIN_ACCURACY_IN_BLOCKS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nabla/ops/ops.h"

namespace nabla {

// The fraction of the n examples whose label (labels[i], any container of integers)
// is the top score: predict_block(begin, count) returns the scores (count, classes) of
// examples begin .. begin + count - 1, for blocks of `block` examples.
template <class PredictBlock, class Labels>
double accuracy_in_blocks(std::int64_t n, std::int64_t block, PredictBlock predict_block,
                          const Labels& labels) {
  if (n == 0) return 0;
  std::int64_t correct = 0;
  std::vector<std::int64_t> block_labels;
  for (std::int64_t begin = 0; begin < n; begin += block) {
    const std::int64_t count = std::min(block, n - begin);
    block_labels.assign(labels.begin() + begin, labels.begin() + begin + count);
    correct += count_correct(predict_block(begin, count), block_labels, "evaluate_accuracy");
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace nabla

#endif  // NABLA_SRC_TRAIN_ACCURACY_IN_BLOCKS_H_
