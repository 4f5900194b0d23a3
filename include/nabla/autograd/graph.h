// nabla/graph.h — the computational graph.
//
// A Var is a handle to a Node: a forward value, the gradient of the final output with
// respect to that value, and (for op results) a backward function that multiplies the
// upstream gradient by the op's local derivative and adds it into the inputs' gradients.
// Copying a Var copies the handle: both name the same node (like a Python reference).
//
//   Var x = Var::parameter(Tensor::scalar(-2), "x");
//   Var y = Var::parameter(Tensor::scalar(5), "y");
//   Var z = Var::parameter(Tensor::scalar(-4), "z");
//   Var f = mul(add(x, y), z);   // f = -12
//   f.backward();                 // x.grad() = -4, y.grad() = -4, z.grad() = 3
//
// An op records a node only when one of its inputs needs a gradient; plain Tensor
// functions (ops.h) and Layer::forward never record, so inference costs no graph.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

struct Node {
  Tensor value;
  Tensor grad;  // undefined until a gradient arrives; then always value's shape
  bool requires_grad = false;
  std::string op;    // "mul", "affine", ... ; "" for leaves
  std::string name;  // user label, shown in pictures of the graph
  std::vector<std::shared_ptr<Node>> inputs;
  // Given this node's gradient, adds each input's share into that input (chain rule).
  std::function<void(const Tensor& dout)> backward;

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Releases long chains of inputs iteratively, so a deep graph cannot overflow the stack.
  ~Node();
};

class Var {
 public:
  Var() = default;
  // A leaf. requires_grad makes backward() fill its grad().
  explicit Var(Tensor value, bool requires_grad = false, std::string name = "");
  static Var parameter(Tensor value, std::string name = "") {
    return Var(std::move(value), true, std::move(name));
  }
  static Var constant(Tensor value, std::string name = "") {
    return Var(std::move(value), false, std::move(name));
  }

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  // Mutable access, e.g. for an optimizer's in-place update of a parameter.
  Tensor& value() { return node_->value; }
  // The gradient; zeros of value's shape if none has arrived yet.
  const Tensor& grad() const;
  Tensor& grad();
  bool has_grad() const { return node_ && node_->grad.defined(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const Shape& shape() const { return node_->value.shape(); }
  DType dtype() const { return node_->value.dtype(); }
  double item() const { return node_->value.item(); }
  const std::string& name() const { return node_->name; }
  Var& set_name(std::string name);
  const std::string& op() const { return node_->op; }

  // Forgets the gradient (zeroing is explicit: gradients accumulate otherwise).
  void zero_grad();
  // Backpropagates from this scalar with d(this)/d(this) = 1.
  void backward();
  // Backpropagates with the given upstream gradient (shape of value()).
  void backward(const Tensor& upstream);

  std::shared_ptr<Node> node() const { return node_; }
  explicit Var(std::shared_ptr<Node> node) : node_(std::move(node)) {}

 private:
  std::shared_ptr<Node> node_;
};

// Records an op result. `backward` receives dout (the gradient of this result) and must
// call accumulate_grad() on the inputs that need one. If no input requires a gradient,
// the result is a plain constant and `backward` is dropped.
Var record(std::string op, Tensor value, std::vector<Var> inputs,
           std::function<void(const Tensor& dout)> backward);

// Adds g into v's gradient if v requires one; checks g has v's shape and dtype.
void accumulate_grad(const Var& v, const Tensor& g, const char* op);
void accumulate_grad(Node& node, const Tensor& g, const char* op);

// All nodes reachable from root, inputs before the nodes that use them.
std::vector<std::shared_ptr<Node>> topological_order(const Var& root);

}  // namespace nabla
NABLA_API_END
