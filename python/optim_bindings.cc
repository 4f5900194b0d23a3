// python/optim_bindings.cc — the optimizers and the weight initialisers' names.
//
//   opt = nabla.Adam(lr=0.001)      # or nabla.make_optimizer("adam", 0.001)
//   opt.step([W, b])                # the same list, in the same order, every time
#include <pybind11/stl.h>

#include "bindings.h"
#include "nabla/train/optim.h"

namespace nabla::python {

void bind_optimizers(py::module_& m) {
  py::class_<Optimizer>(m, "Optimizer", R"(
Updates parameters from their gradients: opt.step(params) with the same list each time.)")
      .def_property_readonly("name", &Optimizer::name)
      .def(
          "step", [](Optimizer& opt, std::vector<Var> params) { opt.step(params); },
          py::arg("params"))
      .def_property("learning_rate", &Optimizer::learning_rate, &Optimizer::set_learning_rate)
      .def_property_readonly("weight_decay", &Optimizer::weight_decay)
      .def_property_readonly("steps", &Optimizer::steps);
  py::class_<SGD, Optimizer>(m, "SGD").def(py::init<double, double>(), py::arg("lr") = 0.01,
                                           py::arg("weight_decay") = 0.0);
  py::class_<Momentum, Optimizer>(m, "Momentum")
      .def(py::init<double, double, double>(), py::arg("lr") = 0.01, py::arg("momentum") = 0.9,
           py::arg("weight_decay") = 0.0);
  py::class_<Nesterov, Optimizer>(m, "Nesterov")
      .def(py::init<double, double, double>(), py::arg("lr") = 0.01, py::arg("momentum") = 0.9,
           py::arg("weight_decay") = 0.0);
  py::class_<AdaGrad, Optimizer>(m, "AdaGrad")
      .def(py::init<double, double, double>(), py::arg("lr") = 0.01, py::arg("eps") = 1e-7,
           py::arg("weight_decay") = 0.0);
  py::class_<RMSProp, Optimizer>(m, "RMSProp")
      .def(py::init<double, double, double, double>(), py::arg("lr") = 0.01,
           py::arg("decay") = 0.99, py::arg("eps") = 1e-7, py::arg("weight_decay") = 0.0);
  py::class_<Adam, Optimizer>(m, "Adam").def(py::init<double, double, double, double, double>(),
                                             py::arg("lr") = 0.001, py::arg("beta1") = 0.9,
                                             py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
                                             py::arg("weight_decay") = 0.0);
  py::class_<AdamW, Adam>(m, "AdamW")
      .def(py::init<double, double, double, double, double>(), py::arg("lr") = 0.001,
           py::arg("weight_decay") = 0.01, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("eps") = 1e-8);
  m.def("make_optimizer", &make_optimizer, py::arg("name"), py::arg("lr"),
        py::arg("weight_decay") = 0.0, "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.");
  m.def("optimizer_names", &optimizer_names);

  py::enum_<Init>(m, "Init", "Weight initialisation: normal (init_std), xavier, he.")
      .value("normal", Init::normal)
      .value("xavier", Init::xavier)
      .value("he", Init::he);
}

}  // namespace nabla::python
