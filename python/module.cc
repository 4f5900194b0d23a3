// python/module.cc — the `nabla` Python module: its contents (one bind_* per topic) and
// nabla's errors as Python exceptions.
//
//   import nabla
//   t = nabla.Trainer(nabla.TrainConfig(iters=2000), nabla.load_mnist("data/mnist"))
//   while not t.done():
//       t.step()
//   print(t.evaluate().test_acc)
//
// See docs/python.md for the whole API.
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.h"
#include "nabla/core/cpu.h"
#include "nabla/core/runtime.h"
#include "nabla/data/idx.h"
#include "nabla/ops/ops.h"
#include "nabla/train/train.h"

namespace nabla::python {

// nabla's own error classes, each a subclass of the built-in exception a Python user
// catches for it. nabla::ValueError (and any other std::invalid_argument) becomes
// ValueError, std::runtime_error RuntimeError, through pybind11's standard translation.
void bind_errors(py::module_& m) {
  py::register_exception<ShapeError>(m, "ShapeError", PyExc_ValueError).attr("__doc__") =
      "An op got operands of the wrong shape; the message names the op and the shapes.";
  py::register_exception<DataError>(m, "DataError", PyExc_ValueError).attr("__doc__") =
      "A missing, damaged or foreign file; the message names it.";
  py::register_exception<TrainingError>(m, "TrainingError", PyExc_RuntimeError).attr("__doc__") =
      "Training stopped: the loss diverged (NaN or inf), at the iteration named.";
}

int checked_threads(int threads, const char* where) {
  if (threads < 1 || threads > kMaxThreads) {
    throw ValueError(std::string(where) + ": threads must be in [1, " +
                     std::to_string(kMaxThreads) + "], got " + std::to_string(threads));
  }
  return threads;
}

}  // namespace nabla::python

PYBIND11_MODULE(_nabla, m) {
  namespace py = pybind11;
  using namespace nabla::python;
  m.doc() = "nabla: neural networks by backpropagation, as clear as the textbook (docs/python.md).";
  m.attr("__version__") = NABLA_VERSION;
  bind_errors(m);
  bind_tensor(m);
  bind_graph(m);
  bind_layers(m);
  bind_data(m);
  bind_optimizers(m);
  bind_training(m);
  bind_tasks(m);
  m.def("kernel_isa", &nabla::kernel_isa,
        "The instruction set the kernels run on: 'scalar', 'avx2', 'avx512' or 'neon'.");
  m.def(
      "set_blas_threads",
      [](int threads) { nabla::set_blas_threads(checked_threads(threads, "set_blas_threads")); },
      py::arg("threads"), "Threads OpenBLAS uses for matrix products, in [1, 64].");
  m.def("blas_threads", &nabla::blas_threads, "Threads OpenBLAS uses for matrix products.");
}
