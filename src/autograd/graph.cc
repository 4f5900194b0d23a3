#include "nabla/autograd/graph.h"

#include <unordered_set>

namespace nabla {

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending = std::move(inputs);
  backward = nullptr;  // its captures may hold inputs too; `pending` keeps them alive
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1) {
      // We hold the last reference: detach its inputs before it dies.
      for (auto& in : n->inputs) pending.push_back(std::move(in));
      n->inputs.clear();
      n->backward = nullptr;
    }
  }
}

Var::Var(Tensor value, bool requires_grad, std::string name) : node_(std::make_shared<Node>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
  node_->name = std::move(name);
}

const Tensor& Var::grad() const { return const_cast<Var*>(this)->grad(); }

Tensor& Var::grad() {
  if (!node_->grad.defined()) node_->grad = Tensor(node_->value.shape(), node_->value.dtype());
  return node_->grad;
}

Var& Var::set_name(std::string name) {
  node_->name = std::move(name);
  return *this;
}

void Var::zero_grad() { node_->grad = Tensor(); }

void Var::backward() {
  if (value().numel() != 1) {
    throw ShapeError("backward: output has shape " + shape_str(shape()) +
                     "; pass an upstream gradient for a non-scalar output");
  }
  backward(Tensor::full(shape(), 1.0, dtype()));
}

void Var::backward(const Tensor& upstream) {
  accumulate_grad(*node_, upstream, "backward");
  std::vector<std::shared_ptr<Node>> order = topological_order(*this);
  // Reverse topological order: a node's gradient is complete before it is passed on.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& n = **it;
    if (n.backward && n.grad.defined()) n.backward(n.grad);
  }
}

Var record(std::string op, Tensor value, std::vector<Var> inputs,
           std::function<void(const Tensor& dout)> backward) {
  auto node = std::make_shared<Node>();
  node->value = std::move(value);
  node->op = std::move(op);
  for (const Var& in : inputs) node->requires_grad = node->requires_grad || in.requires_grad();
  if (node->requires_grad) {
    node->backward = std::move(backward);
    for (const Var& in : inputs) node->inputs.push_back(in.node());
  }
  return Var(std::move(node));
}

void accumulate_grad(Node& node, const Tensor& g, const char* op) {
  if (!node.requires_grad) return;
  if (g.shape() != node.value.shape()) {
    throw ShapeError(std::string(op) + " backward: gradient " + shape_str(g.shape()) +
                     " does not match its tensor " + shape_str(node.value.shape()));
  }
  if (!node.grad.defined()) {
    node.grad = g.dtype() == node.value.dtype() ? g : g.to(node.value.dtype());
    return;
  }
  // grad += g, element by element (the graph needs no op for it: ops build on the graph)
  const Tensor same = g.dtype() == node.grad.dtype() ? Tensor() : g.to(node.grad.dtype());
  const Tensor& add = same.defined() ? same : g;
  visit_dtype(node.grad.dtype(), [&](auto type) {
    using T = decltype(type);
    T* acc = node.grad.template data<T>();
    const T* in = add.template data<T>();
    for (std::int64_t i = 0; i < node.grad.numel(); ++i) acc[i] += in[i];
  });
}

void accumulate_grad(const Var& v, const Tensor& g, const char* op) {
  if (v.defined()) accumulate_grad(*v.node(), g, op);
}

std::vector<std::shared_ptr<Node>> topological_order(const Var& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<const Node*> visited;
  // Iterative depth-first search (deep graphs must not overflow the stack).
  std::vector<std::pair<std::shared_ptr<Node>, std::size_t>> stack;
  stack.emplace_back(root.node(), 0);
  visited.insert(root.node().get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      std::shared_ptr<Node> child = node->inputs[next++];
      if (visited.insert(child.get()).second) stack.emplace_back(child, 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

}  // namespace nabla
