// The layer registry: kinds by name, their options completed and checked.
#include "nabla/train/layer_registry.h"

#include <cmath>
#include <cstdio>

#include "train/layer_kinds.h"

namespace nabla {

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", v);
  return text;
}

LayerOptions LayerKind::complete(const LayerOptions& given) const {
  for (const auto& [key, value] : given) {
    bool known = false;
    for (const LayerOption& o : options) known = known || o.name == key;
    if (!known) {
      std::string names;
      for (const LayerOption& o : options) {
        if (!names.empty()) names += ", ";
        names += o.name;
      }
      throw ValueError("layer " + name + ": unknown option '" + key + "'" +
                       (names.empty() ? " (it takes none)" : " (it takes " + names + ")"));
    }
  }
  LayerOptions out;
  for (const LayerOption& o : options) {
    auto it = given.find(o.name);
    if (it == given.end()) {
      if (o.required) throw ValueError("layer " + name + ": option '" + o.name + "' is missing");
      out[o.name] = o.fallback;
      continue;
    }
    const double v = it->second;
    if (!std::isfinite(v) || v < o.min || v > o.max || (o.integer && v != std::floor(v))) {
      throw ValueError("layer " + name + ": option '" + o.name + "' must be " +
                       (o.integer ? "a whole number" : "a number") + " from " + number_text(o.min) +
                       " to " + number_text(o.max) + ", not " + number_text(v));
    }
    out[o.name] = v;
  }
  return out;
}

void LayerRegistry::add(LayerKind kind) {
  if (contains(kind.name)) throw ValueError("layer kind '" + kind.name + "' is registered twice");
  kinds_.push_back(std::move(kind));
}

bool LayerRegistry::contains(const std::string& name) const {
  for (const LayerKind& k : kinds_) {
    if (k.name == name) return true;
  }
  return false;
}

const LayerKind& LayerRegistry::at(const std::string& name) const {
  for (const LayerKind& k : kinds_) {
    if (k.name == name) return k;
  }
  std::string names;
  for (const LayerKind& k : kinds_) {
    if (!names.empty()) names += ", ";
    names += k.name;
  }
  throw ValueError("layer kind '" + name + "' is not one of " + names);
}

const LayerRegistry& builtin_layers() {
  static const LayerRegistry registry = [] {
    LayerRegistry r;
    add_dense_layer_kinds(r);
    add_cnn_layer_kinds(r);
    add_text_layer_kinds(r);
    return r;
  }();
  return registry;
}

}  // namespace nabla
