// nabla/module.h — what a model is built from: named parameters, named buffers and
// submodules, a train/eval mode, and copies.
//
// A module registers its state by name, as PyTorch's nn::Module does:
//   * parameters: Vars that training updates (Affine's W and b);
//   * buffers: tensors that are state but get no gradient (a batch norm's running mean);
//   * random streams: Rngs a module draws from while training (a dropout's masks), so that
//     a checkpoint can save their state and a resumed run draw the same numbers;
//   * submodules, whose state appears under "<submodule>.<name>" (conv1.W, bn1.running_mean).
// Optimizers, checkpoints and evaluation copies work from these names and never need to
// know the model's shape. Sequential names its layers' state as the textbook does (W1, b1,
// W2, ...), see network.h.
//
//   class Block : public Layer {
//    public:
//     Block(Rng& rng) {
//       fc_ = register_module("fc", std::make_unique<Affine>(4, 4, 0.1, rng));
//       count_ = register_buffer("count", Tensor::scalar(0));
//     }
//     ...
//   };
//   block.named_parameters();  // {"fc.W", W}, {"fc.b", b}
//   block.eval();               // this module and every submodule
//   auto copy = block.clone();  // parameters and buffers of its own, the same values
//
// A derived class reaches its state through the indices register_* return, never through
// pointers of its own, so that a copy of the object is whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/row_gradient.h"

NABLA_API_BEGIN
namespace nabla {

using NamedVars = std::vector<std::pair<std::string, Var>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string kind() const = 0;  // "Affine", "Sequential", ...

  // Parameters and buffers of this module and its submodules, by full name, in
  // registration order (a module's own first, then each submodule's).
  NamedVars named_parameters() const;
  NamedVars named_buffers() const;  // Vars that hold a value and never get a gradient
  // The random streams of this module and its submodules, by full name, in the same
  // order. A checkpoint saves each one's state() and restores it on resume.
  std::vector<std::pair<std::string, Rng*>> named_rngs();
  std::vector<Var> parameters() const;
  // The parameter with this name; ValueError naming the known ones if there is none.
  Var parameter(const std::string& name) const;
  // Each parameter's gradient as rows (row_gradient.h), in named_parameters() order: not
  // null for a table that keeps its gradient so (an Embedding in sparse mode, whose grad()
  // then stays untouched), null for every other parameter. What Optimizer::step(params,
  // row_grads) takes.
  std::vector<const RowGradient*> row_gradients() const;
  // Empties those row gradients (zeroing them, as zeroing grad() does for the others).
  void clear_row_gradients();

  // Training mode (the default) or evaluation mode, for this module and every submodule.
  // In training mode a layer keeps what backward needs and behaves as in training (a
  // dropout drops); in evaluation mode it keeps nothing (inference).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // A deep copy: parameters, buffers, random streams and submodules of its own with the
  // same values (a stream continues where the original's is), in the same mode.
  std::unique_ptr<Module> clone() const;
  // A copy of this object that shares the parameters, buffers and submodules (Vars are
  // handles): what a graph node keeps, so that one layer can be applied several times.
  // The module's own random streams are copied (a graph node draws nothing).
  virtual std::unique_ptr<Module> copy() const = 0;

 protected:
  Module() = default;
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // Each returns the index by which the module reaches the entry later.
  std::size_t register_parameter(std::string name, Tensor value);
  std::size_t register_buffer(std::string name, Tensor value);
  std::size_t register_module(std::string name, std::unique_ptr<Module> module);
  std::size_t register_rng(std::string name, std::uint64_t seed);

  Var& parameter_at(std::size_t i) { return parameters_[i].second; }
  const Var& parameter_at(std::size_t i) const { return parameters_[i].second; }
  Tensor& buffer_at(std::size_t i) { return buffers_[i].second.value(); }
  const Tensor& buffer_at(std::size_t i) const { return buffers_[i].second.value(); }
  Rng& rng_at(std::size_t i) { return rngs_[i].second; }
  Module& module_at(std::size_t i) { return *modules_[i].second; }
  const Module& module_at(std::size_t i) const { return *modules_[i].second; }
  std::size_t module_count() const { return modules_.size(); }

  // The full name of state `name` of submodule `i`: "<submodule name>.<name>".
  virtual std::string state_name(std::size_t i, const std::string& name) const;
  // The gradient of own parameter i as rows, when this module keeps it so; null otherwise.
  virtual const RowGradient* own_row_gradient(std::size_t /*i*/) const { return nullptr; }
  virtual void clear_own_row_gradients() {}

 private:
  NamedVars collect(bool buffers) const;

  NamedVars parameters_;
  NamedVars buffers_;
  std::vector<std::pair<std::string, Rng>> rngs_;  // a copy() has copies of its own
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules_;
  bool training_ = true;
};

// The module's state as a checkpoint stores it: parameters, then buffers, by full name.
std::vector<std::pair<std::string, Tensor>> state_dict(const Module& module);
// Copies the entries of `state` named like the module's parameters and buffers into them
// (converted to their dtype). Throws ValueError naming an entry that is missing or whose
// shape differs; other entries are left alone.
void load_state_dict(Module& module, const std::vector<std::pair<std::string, Tensor>>& state);

// clone() as the derived type.
template <class M>
std::unique_ptr<M> clone_of(const M& module) {
  return std::unique_ptr<M>(static_cast<M*>(module.clone().release()));
}

}  // namespace nabla
NABLA_API_END
