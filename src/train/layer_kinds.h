// The built-in layer kinds of the registry (layer_registry.h), in two families.
#pragma once

#include <cstdint>
#include <string>

#include "nabla/train/layer_registry.h"

namespace nabla {

// affine, relu, sigmoid, tanh (layer_kinds.cc).
void add_dense_layer_kinds(LayerRegistry& registry);
// conv, maxpool, avgpool, batchnorm, dropout, flatten (cnn_layer_kinds.cc).
void add_cnn_layer_kinds(LayerRegistry& registry);
// window_embedding (text_layer_kinds.cc).
void add_text_layer_kinds(LayerRegistry& registry);

// The values in one example of that shape (each dimension is bounded by the model
// description's checks, so the product fits).
std::int64_t values_of(const Shape& shape);
// An option's value as text, exactly enough to read back (%.15g): "5", "0.5".
std::string number_text(double v);
// Options are whole numbers where the kind says so (LayerKind::complete checked it).
inline std::int64_t whole(const LayerOptions& options, const char* name) {
  return static_cast<std::int64_t>(options.at(name));
}

}  // namespace nabla
