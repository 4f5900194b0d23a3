// nabla/dot.h — pictures of the computational graph in Graphviz DOT.
//
// Each node is labelled with its op (or name, for leaves), its forward value (a scalar)
// or shape (a tensor) and, once backward has run, its gradient — the textbook's
// computational-graph figures drawn from a real run:
//   std::ofstream("apple.dot") << to_dot(price);   // dot -Tsvg apple.dot > apple.svg
#pragma once

#include <string>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

std::string to_dot(const Var& root, const std::string& title = "nabla");

}  // namespace nabla
NABLA_API_END
