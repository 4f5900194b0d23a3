// python/bindings.h — what the binding files of the `nabla` Python module share: one
// bind_* function per topic (each in its own file, called by module.cc) and the
// conversions from Python values to nabla's types.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "nabla/core/tensor.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"

namespace nabla::python {

namespace py = pybind11;

void bind_errors(py::module_& m);      // module.cc
void bind_tensor(py::module_& m);      // tensor_bindings.cc: Tensor, DType, Rng, NumPy
void bind_graph(py::module_& m);       // graph_bindings.cc: Var, the ops, gradient_check
void bind_layers(py::module_& m);      // layer_bindings.cc: layers, modules, Sequential
void bind_data(py::module_& m);        // data_bindings.cc: Dataset, Mnist, load_mnist
void bind_optimizers(py::module_& m);  // optim_bindings.cc: SGD ... AdamW, Init
void bind_training(py::module_& m);    // train_bindings.cc: ModelSpec, Trainer, load_model
void bind_tasks(py::module_& m);       // task_bindings.cc: k-NN, the NER window tagger

// A new Tensor from a nabla.Tensor, or from anything NumPy makes an array of (a NumPy
// array, a list, a number), copied into nabla's own aligned storage: float32 stays
// float32, everything else becomes float64, unless `dtype` is given.
Tensor to_tensor(const py::handle& value, std::optional<DType> dtype = std::nullopt);

// The same without a copy when `value` already is a nabla.Tensor of that dtype (then the
// result refers to it); otherwise the converted tensor is put into `storage`.
const Tensor& as_tensor(const py::handle& value, std::optional<DType> dtype, Tensor& storage);

// NumPy arrays of a tensor's elements: a view that `owner` keeps alive (writes go to the
// tensor), or a copy, read-only unless `writable` (a copy that looks like state: writing
// into it would change nothing, so it refuses writes instead of silently ignoring them).
py::array numpy_view(Tensor& t, const py::handle& owner);
py::array numpy_copy(const Tensor& t, bool writable = false);

// The dtype of a module's first parameter (the dtype its inputs must have); none for a
// module without parameters.
std::optional<DType> module_dtype(const Module& module);

// Class indices from a 1-d sequence or NumPy array of integers; a TypeError or ValueError
// that names `what` (the argument) otherwise. Their range is the caller's to check.
std::vector<std::int64_t> to_labels(const py::handle& value, const char* what = "labels");

// `threads` if it is in [1, kMaxThreads]; else a ValueError naming `where` (e.g.
// "Trainer.set_threads") and the range. A thread count is a small positive number: -3
// is a mistake, and 100000 threads would take minutes to start.
inline constexpr int kMaxThreads = 64;
int checked_threads(int threads, const char* where);

// Class indices from labels (to_labels) or one-hot rows (N, C) (their argmax), for
// accuracies, which take either as the textbook's do.
std::vector<std::int64_t> to_class_indices(const py::handle& value, const char* what);

// Integer ids of any shape (word ids, an embedding's input) as an int64 Tensor; a
// TypeError naming `what` for non-integers, a ValueError for a negative id.
Tensor to_ids(const py::handle& value, const char* what);

// Class labels: indices (to_labels), or one-hot rows (N, C) given as a nabla.Tensor or a
// 2-d float NumPy array (converted to `dtype` when given).
Targets to_targets(const py::handle& value, std::optional<DType> dtype = std::nullopt);

}  // namespace nabla::python
