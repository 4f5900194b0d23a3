// The --arch syntax: a model's layers as one line of text ("conv:30x5 relu maxpool:2
// affine:100 relu affine:10"), read into a ModelSpec and written back.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "nabla/train/model_spec.h"
#include "train/layer_kinds.h"

namespace nabla {

namespace {

std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, by)) parts.push_back(part);
  if (!text.empty() && text.back() == by) parts.emplace_back();
  return parts;
}

// The whole of `text` as a finite number; ValueError naming it otherwise.
double number(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (text.empty() || end != begin + text.size() || errno != 0 || !std::isfinite(v)) {
    throw ValueError("'" + text + "' is not a number");
  }
  return v;
}

// One token, "kind[:v1xv2...][,name=value...]", as a layer with complete options: the
// values after a colon are the leading options in order, the fields after a comma named
// ones ("batchnorm,eps=0.001" names one and gives none by position).
LayerSpec read_layer(const std::string& token) {
  const std::size_t end = token.find_first_of(":,");
  LayerSpec l;
  l.kind = token.substr(0, end);
  const LayerKind& kind = builtin_layers().at(l.kind);
  if (end == std::string::npos) {
    l.options = kind.complete({});
    return l;
  }
  const bool positional = token[end] == ':';
  std::vector<std::string> fields = split(token.substr(end + 1), ',');
  for (std::size_t f = 0; f < fields.size(); ++f) {
    const std::string& text = fields[f];
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos) {
      if (f > 0 || !positional) throw ValueError("'" + text + "' is not an option (name=value)");
      std::vector<std::string> values = split(text, 'x');
      if (values.size() > kind.positional) {
        throw ValueError(std::to_string(values.size()) + " values before the options; " +
                         kind.name + " takes " + std::to_string(kind.positional));
      }
      for (std::size_t v = 0; v < values.size(); ++v) {
        l.options[kind.options[v].name] = number(values[v]);
      }
      continue;
    }
    const std::string name = text.substr(0, eq);
    if (l.options.count(name) > 0) throw ValueError("option '" + name + "' is given twice");
    l.options[name] = number(text.substr(eq + 1));
  }
  l.options = kind.complete(l.options);
  return l;
}

}  // namespace

ArchLayers parse_arch(const std::string& arch) {
  std::vector<std::string> tokens;
  std::istringstream in(arch);
  for (std::string token; in >> token;) tokens.push_back(token);
  if (tokens.empty()) throw ValueError("--arch is empty: give layers such as 'affine:100 relu'");
  ArchLayers a;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string where = "--arch token " + std::to_string(i + 1) + " '" + tokens[i] + "': ";
    try {
      if (i == 0 && tokens[i].rfind("input:", 0) == 0) {
        for (const std::string& v : split(tokens[i].substr(6), 'x')) {
          const double d = number(v);
          if (d < 1 || d > static_cast<double>(ModelSpec::kMaxWidth) || d != std::floor(d)) {
            throw ValueError("'" + v + "' is not a size from 1 to " +
                             std::to_string(ModelSpec::kMaxWidth));
          }
          a.input_shape.push_back(static_cast<std::int64_t>(d));
        }
        if (a.input_shape.empty() || a.input_shape.size() > 3) {
          throw ValueError("the input shape must have 1 to 3 sizes");
        }
        continue;
      }
      a.layers.push_back(read_layer(tokens[i]));
    } catch (const ValueError& e) {
      throw ValueError(where + e.what());
    }
  }
  return a;
}

ModelSpec model_from_arch(const std::string& arch, const Shape& input_shape, std::int64_t classes) {
  ArchLayers a = parse_arch(arch);
  ModelSpec s;
  s.kind = "arch";
  s.classes = classes;
  s.loss = classes == 1 ? "mse" : "softmax";  // (one output: a regression's)
  s.hidden = {};
  s.input_shape = input_shape;
  s.layers = std::move(a.layers);
  if (!a.input_shape.empty()) {
    std::int64_t values = 1, given = 1;
    for (std::int64_t d : a.input_shape) {
      if (!checked_mul(values, d, &values)) values = -1;
    }
    for (std::int64_t d : input_shape) given *= d;
    if (values != given) {
      std::string token;
      for (std::int64_t d : a.input_shape) {
        if (!token.empty()) token += 'x';
        token += std::to_string(d);
      }
      throw ValueError("--arch token 1 'input:" + token +
                       "': the input shape must have 1 to 3 sizes whose product is the " +
                       std::to_string(given) + " values of an example");
    }
    s.input_shape = a.input_shape;
  }
  s.inputs = 1;
  for (std::int64_t d : s.input_shape) {
    if (d < 1 || !checked_mul(s.inputs, d, &s.inputs)) s.inputs = 0;
  }
  try {
    s.check();
  } catch (const ValueError& e) {
    throw ValueError(std::string("--arch: ") + e.what());
  }
  return s;
}

std::string arch_string(const std::vector<LayerSpec>& layers) {
  const LayerRegistry& registry = builtin_layers();
  std::string text;
  for (const LayerSpec& l : layers) {
    if (!text.empty()) text += ' ';
    text += l.kind;
    if (!registry.contains(l.kind)) continue;  // (only in messages about it)
    const LayerKind& kind = registry.at(l.kind);
    // The leading options positionally while they are given, the rest by name unless
    // they are at their defaults.
    std::string values, named;
    bool leading = true;
    for (std::size_t i = 0; i < kind.options.size(); ++i) {
      const LayerOption& o = kind.options[i];
      auto it = l.options.find(o.name);
      if (leading && i < kind.positional && it != l.options.end()) {
        if (!values.empty()) values += 'x';
        values += number_text(it->second);
        continue;
      }
      leading = false;
      if (it != l.options.end() && (o.required || it->second != o.fallback)) {
        named += ',';
        named += o.name;
        named += '=';
        named += number_text(it->second);
      }
    }
    if (values.empty() && !named.empty()) named[0] = ':';  // "batchnorm:momentum=0.8"
    if (!values.empty()) {
      text += ':';
      text += values;
    }
    text += named;
  }
  return text;
}

}  // namespace nabla
