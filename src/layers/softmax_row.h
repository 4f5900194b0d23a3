// One row of softmax, the one place it is computed (src/layers/softmax_with_loss.cc):
// y = softmax(s) over s[0, c), stable (the row max m is subtracted); returns
// log sum_k exp(s_k - m) + m, from which SoftmaxWithLoss takes its loss. The tensor op
// softmax (ops.h) and the layers Softmax and SoftmaxWithLoss all use it.
#pragma once

#include <cstdint>

namespace nabla {

double softmax_row(const float* s, std::int64_t c, float* y);
double softmax_row(const double* s, std::int64_t c, double* y);

}  // namespace nabla
