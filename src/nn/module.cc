// Module: named parameters, buffers and submodules; mode; deep copies.
#include "nabla/nn/module.h"

namespace nabla {

std::size_t Module::register_parameter(std::string name, Tensor value) {
  Var p = Var::parameter(std::move(value), name);
  parameters_.emplace_back(std::move(name), std::move(p));
  return parameters_.size() - 1;
}

std::size_t Module::register_buffer(std::string name, Tensor value) {
  Var b = Var::constant(std::move(value), name);
  buffers_.emplace_back(std::move(name), std::move(b));
  return buffers_.size() - 1;
}

std::size_t Module::register_rng(std::string name, std::uint64_t seed) {
  rngs_.emplace_back(std::move(name), Rng(seed));
  return rngs_.size() - 1;
}

std::size_t Module::register_module(std::string name, std::unique_ptr<Module> module) {
  module->train(training_);
  modules_.emplace_back(std::move(name), std::shared_ptr<Module>(std::move(module)));
  return modules_.size() - 1;
}

std::string Module::state_name(std::size_t i, const std::string& name) const {
  return modules_[i].first + "." + name;
}

NamedVars Module::collect(bool buffers) const {
  NamedVars out = buffers ? buffers_ : parameters_;
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    for (auto& [name, var] : modules_[i].second->collect(buffers)) {
      out.emplace_back(state_name(i, name), std::move(var));
    }
  }
  return out;
}

std::vector<std::pair<std::string, Rng*>> Module::named_rngs() {
  std::vector<std::pair<std::string, Rng*>> out;
  for (auto& [name, rng] : rngs_) out.emplace_back(name, &rng);
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    for (auto& [name, rng] : modules_[i].second->named_rngs()) {
      out.emplace_back(state_name(i, name), rng);
    }
  }
  return out;
}

NamedVars Module::named_parameters() const { return collect(false); }

NamedVars Module::named_buffers() const { return collect(true); }

std::vector<Var> Module::parameters() const {
  std::vector<Var> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

Var Module::parameter(const std::string& name) const {
  std::string known;
  for (const auto& [full, p] : named_parameters()) {
    if (full == name) return p;
    known += (known.empty() ? "" : ", ") + full;
  }
  throw ValueError(kind() + ": no parameter named '" + name + "' (the parameters are " +
                   (known.empty() ? "none" : known) + ")");
}

std::vector<const RowGradient*> Module::row_gradients() const {
  std::vector<const RowGradient*> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) out.push_back(own_row_gradient(i));
  for (const auto& [name, m] : modules_) {
    for (const RowGradient* g : m->row_gradients()) out.push_back(g);
  }
  return out;
}

void Module::clear_row_gradients() {
  clear_own_row_gradients();
  for (auto& [name, m] : modules_) m->clear_row_gradients();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : modules_) m->train(on);
}

std::unique_ptr<Module> Module::clone() const {
  std::unique_ptr<Module> c = copy();
  // New handles with copies of the values (a Tensor copy copies its elements).
  for (auto& [name, p] : c->parameters_) p = Var::parameter(p.value(), p.name());
  for (auto& [name, b] : c->buffers_) b = Var::constant(b.value(), b.name());
  for (auto& [name, m] : c->modules_) m = m->clone();
  return c;
}

std::vector<std::pair<std::string, Tensor>> state_dict(const Module& module) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, p] : module.named_parameters()) out.emplace_back(name, p.value());
  for (const auto& [name, b] : module.named_buffers()) out.emplace_back(name, b.value());
  return out;
}

void load_state_dict(Module& module, const std::vector<std::pair<std::string, Tensor>>& state) {
  auto load = [&](const NamedVars& targets, const char* what) {
    for (auto [name, target] : targets) {
      const Tensor* found = nullptr;
      for (const auto& [key, t] : state) {
        if (key == name) found = &t;
      }
      if (found == nullptr) {
        throw ValueError(module.kind() + ": " + what + " " + name + " is missing");
      }
      if (found->shape() != target.shape()) {
        throw ValueError(module.kind() + ": " + what + " " + name + " has shape " +
                         shape_str(found->shape()) + ", expected " + shape_str(target.shape()));
      }
      // Copied into the entry's own storage, which stays where it is (a view of it, such
      // as NumPy's through the Python module, sees the new values).
      Tensor converted = found->dtype() == target.dtype() ? Tensor() : found->to(target.dtype());
      target.value() = converted.defined() ? converted : *found;
    }
  };
  load(module.named_parameters(), "parameter");
  load(module.named_buffers(), "buffer");
}

}  // namespace nabla
