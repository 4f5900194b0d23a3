// nabla/indexing.h — ops that pick and join: rows looked up by id, tensors side by side.
//
// A window classifier reads the word vectors of a window: with ids (N, k) of k words per
// example, gather_rows(table, ids) is (N*k, d), and reshaping it to (N, k*d) concatenates
// each example's k vectors. Its backward adds each output row's gradient into the row of
// the table it came from (a row used twice gets both).
//
//   Var table = Var::parameter(vectors, "embedding");      // (V, d)
//   Var x = reshape(gather_rows(table, window_ids), {n, 5 * d});
//   Var features = concat({x, shape_features}, 1);          // side by side
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

// table (V, d), ids in [0, V) -> (ids.size(), d). ValueError names an id out of range.
Var gather_rows(const Var& table, const std::vector<std::int64_t>& ids);

// Tensors of one rank, equal in every axis but `axis`, joined along it.
Var concat(const std::vector<Var>& parts, std::int64_t axis);

}  // namespace nabla
NABLA_API_END
