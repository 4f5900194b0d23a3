// python/layer_bindings.cc — the textbook's layers (forward / backward by hand, or as graph
// nodes), the Module API and Sequential networks.
//
//   mul_apple, mul_tax = nabla.MulLayer(), nabla.MulLayer()
//   price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)   # 220
//   d_apple_price, d_tax = mul_tax.backward(1)                 # 1.1, 200
//   d_apple, d_apple_num = mul_apple.backward(d_apple_price)   # 2.2, 110
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "bindings.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/nn/network.h"

namespace nabla::python {
namespace {

template <class L>
void bind_two_input_layer(py::module_& m, const char* name, const char* doc) {
  py::class_<L>(m, name, doc)
      .def(py::init<>())
      .def("forward", py::overload_cast<double, double>(&L::forward), py::arg("x"), py::arg("y"))
      .def("forward", py::overload_cast<const Tensor&, const Tensor&>(&L::forward), py::arg("x"),
           py::arg("y"))
      .def("backward", py::overload_cast<double>(&L::backward, py::const_), py::arg("dout"),
           "(dx, dy) from dout.")
      .def("backward", py::overload_cast<const Tensor&>(&L::backward, py::const_), py::arg("dout"))
      .def("__call__", [](L& layer, const Var& x, const Var& y) { return layer(x, y); });
}

py::dict to_dict(const std::vector<std::pair<std::string, Tensor>>& entries) {
  py::dict d;
  for (const auto& [name, t] : entries) d[py::str(name)] = t;
  return d;
}

void bind_module(py::module_& m) {
  py::class_<Module>(m, "Module", R"(
Named parameters, buffers and submodules, and a train/eval mode (PyTorch's nn.Module).)")
      .def_property_readonly("kind", &Module::kind)
      .def("named_parameters", &Module::named_parameters,
           "[(name, Var)] of this module and its submodules, in registration order.")
      .def("named_buffers", &Module::named_buffers)
      .def("parameters", &Module::parameters)
      .def("parameter", &Module::parameter, py::arg("name"))
      .def("train", &Module::train, py::arg("on") = true,
           "Training mode (the default) for this module and every submodule.")
      .def("eval", &Module::eval, "Evaluation mode: layers keep nothing for backward.")
      .def_property_readonly("training", &Module::is_training)
      .def("clone", &Module::clone, "A deep copy: parameters of its own, the same values.")
      .def(
          "state_dict", [](const Module& module) { return to_dict(state_dict(module)); },
          "{name: Tensor} of parameters then buffers (copies).")
      .def(
          "load_state_dict",
          [](Module& module, const py::dict& state) {
            std::vector<std::pair<std::string, Tensor>> entries;
            for (auto [name, value] : state) {
              entries.emplace_back(name.cast<std::string>(), to_tensor(value));
            }
            load_state_dict(module, entries);
          },
          py::arg("state"), "Copies the entries named like the module's state into it.");
}

void bind_layer_classes(py::module_& m) {
  py::class_<Layer, Module>(m, "Layer", "One input, one output: forward(x), backward(dout).")
      .def(
          "forward",
          [](Layer& layer, const py::object& x) {
            Tensor storage;
            return layer.forward(as_tensor(x, module_dtype(layer), storage));
          },
          py::arg("x"), "The output; in training mode the layer keeps what backward needs.")
      .def(
          "backward",
          [](Layer& layer, const py::object& dout) {
            Tensor storage;
            return layer.backward(as_tensor(dout, module_dtype(layer), storage));
          },
          py::arg("dout"),
          "dL/dx from dL/d(output); adds dL/d(parameter) into each parameter's grad.")
      .def(
          "__call__", [](Layer& layer, const Var& x) { return layer(x); }, py::arg("x"),
          "As a graph node.")
      .def("set_input_grad", &Layer::set_input_grad, py::arg("needed"));

  py::class_<Relu, Layer>(m, "Relu").def(py::init<>());
  py::class_<Sigmoid, Layer>(m, "Sigmoid").def(py::init<>());
  py::class_<Tanh, Layer>(m, "Tanh").def(py::init<>());
  py::class_<Softmax, Layer>(m, "Softmax").def(py::init<>());
  py::class_<Affine, Layer>(m, "Affine", "Y = X.W + b; W (D, M), b (M).")
      .def(py::init([](std::int64_t inputs, std::int64_t outputs, double init_std, Rng* rng,
                       DType dtype) {
             Rng fresh;
             return Affine(inputs, outputs, init_std, rng ? *rng : fresh, dtype);
           }),
           py::arg("inputs"), py::arg("outputs"), py::arg("init_std") = 0.01,
           py::arg("rng") = nullptr, py::arg("dtype") = DType::f32,
           "W ~ init_std * N(0, 1), b = 0 (rng: a fresh Rng(42) if None).")
      .def(py::init([](const py::object& W, const py::object& b) {
             return Affine(to_tensor(W), to_tensor(b));
           }),
           py::arg("W"), py::arg("b"), "From given weights (copied).")
      // Vars are handles: the copies returned name the layer's own parameters.
      .def_property_readonly("W", [](const Affine& a) { return a.W(); })
      .def_property_readonly("b", [](const Affine& a) { return a.b(); });

  py::class_<LossLayer>(m, "LossLayer", "forward(scores, targets) -> mean loss; backward(dout).")
      .def_property_readonly("kind", &LossLayer::kind)
      .def(
          "forward",
          [](LossLayer& loss, const py::object& scores, const py::object& targets) {
            Tensor storage;
            const Tensor& s = as_tensor(scores, std::nullopt, storage);
            return loss.forward(s, to_targets(targets, s.dtype()));
          },
          py::arg("scores"), py::arg("targets"),
          "Mean loss of scores (N, C) against labels (N) or one-hot rows (N, C).")
      .def("backward", &LossLayer::backward, py::arg("dout") = 1.0, "dL/d(scores) times dout.")
      .def(
          "__call__",
          [](LossLayer& loss, const Var& scores, const py::object& targets) {
            return loss(scores, to_targets(targets, scores.dtype()));
          },
          py::arg("scores"), py::arg("targets"), "As a graph node (a scalar Var).");
  py::class_<SoftmaxWithLoss, LossLayer>(m, "SoftmaxWithLoss")
      .def(py::init<>())
      .def_property_readonly(
          "probabilities", [](const SoftmaxWithLoss& l) { return Tensor(l.probabilities()); },
          "A copy of the softmax output of the latest forward.");
  py::class_<SvmLoss, LossLayer>(m, "SvmLoss")
      .def(py::init<double>(), py::arg("margin") = 1.0)
      .def_property_readonly("sample_losses", &SvmLoss::sample_losses);
  m.def(
      "cross_entropy_error",
      [](const Tensor& y, const py::object& t) { return cross_entropy_error(y, to_targets(t)); },
      py::arg("y"), py::arg("t"), "Mean of -log(y[t] + 1e-7) over the batch.");
}

void bind_sequential(py::module_& m) {
  py::class_<Sequential, Module>(m, "Sequential", R"(
Layers in order and a loss layer. Parameters are named as in the textbook: W1, b1, W2, ...
add() keeps a copy of the layer that shares its parameters (Vars are handles).)")
      .def(py::init<>())
      .def(
          "add",
          [](Sequential& net, const Layer& layer) -> Sequential& {
            std::unique_ptr<Module> copy = layer.copy();
            return net.add(std::unique_ptr<Layer>(static_cast<Layer*>(copy.release())));
          },
          py::arg("layer"), py::return_value_policy::reference_internal)
      .def(
          "set_loss",
          [](Sequential& net, const LossLayer& loss) -> Sequential& {
            return net.set_loss(loss.copy());
          },
          py::arg("loss"), py::return_value_policy::reference_internal)
      .def("__len__", &Sequential::size)
      .def("layer", &Sequential::layer, py::arg("i"), py::return_value_policy::reference_internal)
      .def("loss_layer", &Sequential::loss_layer, py::return_value_policy::reference_internal)
      .def(
          "predict",
          [](Sequential& net, const py::object& x) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            py::gil_scoped_release release;
            return net.predict(in);
          },
          py::arg("x"), "Scores (N, C), in evaluation mode.")
      .def(
          "loss",
          [](Sequential& net, const py::object& x, const py::object& t) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            return net.loss(in, to_targets(t, in.dtype()));
          },
          py::arg("x"), py::arg("t"))
      .def(
          "accuracy",
          [](Sequential& net, const py::object& x, const py::object& t) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            return net.accuracy(in, to_labels(t));
          },
          py::arg("x"), py::arg("t"))
      .def(
          "gradient",
          [](Sequential& net, const py::object& x, const py::object& t) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            Targets targets = to_targets(t, in.dtype());
            py::gil_scoped_release release;
            return net.gradient(in, targets);
          },
          py::arg("x"), py::arg("t"),
          "Forward and backward: adds dL/dp into every parameter's grad; returns the loss.")
      .def("zero_grad", &Sequential::zero_grad)
      .def(
          "numerical_gradient",
          [](Sequential& net, const py::object& x, const py::object& t, double h) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            return net.numerical_gradient(in, to_targets(t, in.dtype()), h);
          },
          py::arg("x"), py::arg("t"), py::arg("h") = 1e-4)
      .def(
          "set_threads",
          [](Sequential& net, int threads) {
            net.set_threads(checked_threads(threads, "Sequential.set_threads"));
          },
          py::arg("threads"), "Threads for forward and backward, in [1, 64].")
      .def(
          "forward_graph",
          [](Sequential& net, const Var& x, const py::object& t) {
            return net.forward_graph(x, to_targets(t, x.dtype()));
          },
          py::arg("x"), py::arg("t"), "The network recorded as a graph (one node per layer).");

  m.def(
      "make_two_layer_net",
      [](std::int64_t input_size, std::int64_t hidden_size, std::int64_t output_size,
         double weight_init_std, Rng* rng, DType dtype) {
        Rng fresh;
        return make_two_layer_net(input_size, hidden_size, output_size, weight_init_std,
                                  rng ? *rng : fresh, dtype);
      },
      py::arg("input_size"), py::arg("hidden_size"), py::arg("output_size"),
      py::arg("weight_init_std") = 0.01, py::arg("rng") = nullptr, py::arg("dtype") = DType::f32,
      "The textbook's TwoLayerNet: Affine -> Relu -> Affine, SoftmaxWithLoss.");
}

}  // namespace

void bind_layers(py::module_& m) {
  bind_two_input_layer<MulLayer>(m, "MulLayer", "out = x * y; backward: (dout * y, dout * x).");
  bind_two_input_layer<AddLayer>(m, "AddLayer", "out = x + y; backward: (dout, dout).");
  bind_module(m);
  bind_layer_classes(m);
  bind_sequential(m);
}

}  // namespace nabla::python
