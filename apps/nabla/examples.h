// The worked examples behind `nabla example NAME`, grouped by lecture: each group's file
// adds its examples to the table. Every result prints on its own line as `name = value`.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <utility>

#include "nabla/autograd/graph.h"
#include "nabla/core/tensor.h"

namespace nabla::cli {

// What an example returns: the root of its graph (for --dot), if it has one.
using Example = std::function<Var(std::ostream& out)>;
// name -> (the example, a one-line summary for --list)
using ExampleTable = std::map<std::string, std::pair<Example, std::string>>;

// Lecture 1, computational graphs: the mul node, the finite-change check, the three
// backward patterns, softmax-with-loss from primitive nodes.
void add_backprop_examples(ExampleTable& table);
// Lecture 3, matrix calculus: the gradient as slope, Jacobians, the error signal delta.
void add_matrix_calculus_examples(ExampleTable& table);
// Convolutional networks: im2col, max pooling's routing, batch normalization.
void add_cnn_examples(ExampleTable& table);
// Sentence-level tagging: a three-word sentence through the transitions and Viterbi.
void add_sequence_examples(ExampleTable& table);

inline void print(std::ostream& out, const std::string& name, const Tensor& value) {
  out << name << " = " << to_string(value) << "\n";
}
inline void print(std::ostream& out, const std::string& name, const Var& v) {
  print(out, name, v.value());
}
inline void print_grad(std::ostream& out, const std::string& name, const Var& v) {
  print(out, name, v.grad());
}

// `digits` significant digits: format_number(9.974, 3) = "9.97".
inline std::string format_number(double v, int digits = 6) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

inline Var scalar(double value, const std::string& name) {
  return Var::parameter(Tensor::scalar(value), name);
}

}  // namespace nabla::cli
