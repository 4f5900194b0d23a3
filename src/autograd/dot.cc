#include "nabla/autograd/dot.h"

#include <cstdio>
#include <sstream>
#include <unordered_map>

#include "nabla/autograd/graph.h"

namespace nabla {

namespace {

// A scalar as a short number ("2.2", "-0.196612"); a tensor as its shape.
std::string describe(const Tensor& t) {
  if (t.numel() == 1 && t.rank() <= 1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", t.item());
    return buf;
  }
  return shape_str(t.shape());
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    // record labels treat these as structure: escape them
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '<' || c == '>') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string to_dot(const Var& root, const std::string& title) {
  std::vector<std::shared_ptr<Node>> order = topological_order(root);
  std::unordered_map<const Node*, std::size_t> id;
  for (std::size_t i = 0; i < order.size(); ++i) id[order[i].get()] = i;

  std::ostringstream out;
  out << "digraph \"" << escape(title) << "\" {\n"
      << "  rankdir=LR;\n"
      << "  node [shape=record, fontname=\"Helvetica\"];\n";
  for (const auto& n : order) {
    std::string head = n->op.empty() ? (n->name.empty() ? "input" : n->name)
                                     : (n->name.empty() ? n->op : n->op + " " + n->name);
    out << "  n" << id[n.get()] << " [label=\"{" << escape(head) << " | value "
        << escape(describe(n->value));
    if (n->grad.defined()) out << " | grad " << escape(describe(n->grad));
    out << "}\"";
    if (n->op.empty()) out << ", style=filled, fillcolor=\"#e8f0fe\"";
    out << "];\n";
  }
  for (const auto& n : order) {
    for (const auto& in : n->inputs) {
      out << "  n" << id[in.get()] << " -> n" << id[n.get()] << ";\n";
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace nabla
