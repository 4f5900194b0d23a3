// python/optim_bindings.cc — the optimizers and the weight initialisers' names.
//
//   opt = nabla.Adam(lr=0.001)      # or nabla.make_optimizer("adam", 0.001)
//   opt.step([W, b])                # the same list, in the same order, every time
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "nabla/train/optim.h"

namespace nabla::python {
namespace {

// The textbook's optimizer.update(params, grads): dicts of NumPy arrays (or Tensors) with
// the same keys; each params[key] is updated in place from grads[key]. The state
// (momentum, Adam's m and v) belongs to the keys' positions in params, so pass the same
// dict, in the same order, every time (as the textbook's loop does).
void update(Optimizer& opt, const py::dict& params, const py::dict& grads) {
  py::module_ np = py::module_::import("numpy");
  std::vector<Var> vars;
  std::vector<py::array> targets;
  for (auto [key, value] : params) {
    const std::string name = py::str(key).cast<std::string>();
    // A NumPy array or a Tensor (whose buffer is its elements): anything else would be
    // converted to a new array, and the update would be lost with it.
    const bool in_place = py::isinstance<py::array>(value) || py::isinstance<Tensor>(value);
    py::array target = in_place ? py::array::ensure(value) : py::array();
    if (!in_place || !target || target.dtype().kind() != 'f' || !target.writeable()) {
      throw py::type_error("update: params['" + name +
                           "'] must be a writable float32 or float64 NumPy array (or a "
                           "nabla.Tensor), updated in place");
    }
    if (!grads.contains(key)) {
      throw ValueError("update: grads has no entry '" + name + "', params has");
    }
    const DType dtype = target.dtype().is(py::dtype::of<float>()) ? DType::f32 : DType::f64;
    Var var(to_tensor(target, dtype), true, name);
    Tensor grad = to_tensor(grads[key], dtype);
    if (grad.shape() != var.shape()) {
      throw ShapeError("update: grads['" + name + "'] is " + shape_str(grad.shape()) +
                       ", params['" + name + "'] " + shape_str(var.shape()));
    }
    var.grad() = std::move(grad);
    vars.push_back(std::move(var));
    targets.push_back(std::move(target));
  }
  opt.step(vars);
  for (std::size_t i = 0; i < vars.size(); ++i) {
    np.attr("copyto")(targets[i], numpy_view(vars[i].value(), py::cast(vars[i])));
  }
}

}  // namespace

void bind_optimizers(py::module_& m) {
  py::class_<Optimizer>(m, "Optimizer", R"(
Updates parameters from their gradients: opt.step(params) with the same list each time.)")
      .def_property_readonly("name", &Optimizer::name, "The optimizer's name (sgd, adam, ...).")
      .def(
          "step", [](Optimizer& opt, std::vector<Var> params) { opt.step(params); },
          py::arg("params"),
          "Updates each Var from its grad (the same list, in the same order, each time).")
      .def("update", &update, py::arg("params"), py::arg("grads"),
           "The textbook's update: params[key] (a NumPy array, changed in place) from "
           "grads[key], for the keys of params in order; pass the same dict each time.")
      .def_property("learning_rate", &Optimizer::learning_rate, &Optimizer::set_learning_rate,
                    "The learning rate (settable).")
      .def_property_readonly("weight_decay", &Optimizer::weight_decay, "AdamW's decoupled decay.")
      .def_property_readonly("steps", &Optimizer::steps, "Updates made so far.");
  py::class_<SGD, Optimizer>(m, "SGD", "p -= lr * g.")
      .def(py::init<double, double>(), py::arg("lr") = 0.01, py::arg("weight_decay") = 0.0);
  py::class_<Momentum, Optimizer>(m, "Momentum", "v = momentum * v - lr * g; p += v.")
      .def(py::init<double, double, double>(), py::arg("lr") = 0.01, py::arg("momentum") = 0.9,
           py::arg("weight_decay") = 0.0);
  py::class_<Nesterov, Optimizer>(m, "Nesterov", "Momentum with Nesterov's look-ahead.")
      .def(py::init<double, double, double>(), py::arg("lr") = 0.01, py::arg("momentum") = 0.9,
           py::arg("weight_decay") = 0.0);
  py::class_<AdaGrad, Optimizer>(m, "AdaGrad", "h += g * g; p -= lr * g / (sqrt(h) + eps).")
      .def(py::init<double, double, double>(), py::arg("lr") = 0.01, py::arg("eps") = 1e-7,
           py::arg("weight_decay") = 0.0);
  py::class_<RMSProp, Optimizer>(
      m, "RMSProp", "h = decay * h + (1 - decay) * g * g; p -= lr * g / (sqrt(h) + eps).")
      .def(py::init<double, double, double, double>(), py::arg("lr") = 0.01,
           py::arg("decay") = 0.99, py::arg("eps") = 1e-7, py::arg("weight_decay") = 0.0);
  py::class_<Adam, Optimizer>(m, "Adam", "Adam: bias-corrected moving averages of g and g * g.")
      .def(py::init<double, double, double, double, double>(), py::arg("lr") = 0.001,
           py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.0);
  py::class_<AdamW, Adam>(m, "AdamW", "Adam with decoupled weight decay.")
      .def(py::init<double, double, double, double, double>(), py::arg("lr") = 0.001,
           py::arg("weight_decay") = 0.01, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("eps") = 1e-8);
  m.def("make_optimizer", &make_optimizer, py::arg("name"), py::arg("lr"),
        py::arg("weight_decay") = 0.0, "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.");
  m.def("optimizer_names", &optimizer_names, "The names make_optimizer accepts.");

  py::enum_<Init>(m, "Init", "Weight initialisation: normal (init_std), xavier, he.")
      .value("normal", Init::normal)
      .value("xavier", Init::xavier)
      .value("he", Init::he);
}

}  // namespace nabla::python
