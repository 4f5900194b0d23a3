// python/layer_bindings.cc — the textbook's layers (forward / backward by hand, or as graph
// nodes), the Module API and Sequential networks.
//
//   mul_apple, mul_tax = nabla.MulLayer(), nabla.MulLayer()
//   price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)   # 220
//   d_apple_price, d_tax = mul_tax.backward(1)                 # 1.1, 200
//   d_apple, d_apple_num = mul_apple.backward(d_apple_price)   # 2.2, 110
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "bindings.h"
#include "nabla/core/sparse_pixels.h"
#include "nabla/nn/cnn_layers.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/nn/network.h"
#include "nabla/nn/sparse_affine.h"
#include "nabla/ops/sparse.h"

namespace nabla::python {
namespace {

template <class L>
void bind_two_input_layer(py::module_& m, const char* name, const char* doc) {
  py::class_<L>(m, name, doc)
      .def(py::init<>())
      .def("forward", py::overload_cast<double, double>(&L::forward), py::arg("x"), py::arg("y"),
           "The output, keeping what backward needs.")
      .def("forward", py::overload_cast<const Tensor&, const Tensor&>(&L::forward), py::arg("x"),
           py::arg("y"), "The same on Tensors, elementwise.")
      .def("backward", py::overload_cast<double>(&L::backward, py::const_), py::arg("dout"),
           "(dx, dy) from dout.")
      .def("backward", py::overload_cast<const Tensor&>(&L::backward, py::const_), py::arg("dout"))
      .def(
          "__call__", [](L& layer, const Var& x, const Var& y) { return layer(x, y); },
          py::arg("x"), py::arg("y"), "As a graph node.");
}

py::dict to_dict(const std::vector<std::pair<std::string, Tensor>>& entries) {
  py::dict d;
  for (const auto& [name, t] : entries) d[py::str(name)] = t;
  return d;
}

// A live NumPy view of a parameter's value: it keeps the parameter (a handle to its node)
// alive, and writes through it are the parameter's (the textbook's params[key] -= ...).
py::array value_view(const Var& p) {
  Var handle = p;
  return numpy_view(handle.value(), py::cast(handle));
}

// The parameter's gradient as a read-only copy (zeros before any backward). A copy because
// Var.zero_grad() and gradient checks release a gradient's storage, which a view would
// outlive.
py::array grad_copy(const Var& p) {
  if (!p.has_grad()) return numpy_copy(Tensor::zeros(p.shape(), p.dtype()));
  return numpy_copy(p.grad());
}

py::dict views_by_name(const NamedVars& params) {
  py::dict d;
  for (const auto& [name, p] : params) d[py::str(name)] = value_view(p);
  return d;
}

// A layer made from NumPy arrays, as the textbook makes Affine(W, b), Convolution(W, b)
// and BatchNormalization(gamma, beta): those arrays stay its first two parameters. Each
// forward first copies them in, so the textbook's params[key] -= lr * grad (in place, on
// the arrays it made) trains the layer, and numerical_gradient(f, W) sees its
// perturbations. A copy of the layer (Sequential.add, a graph node) is a plain L sharing
// the parameters, with their values as of the latest forward.
template <class L>
class ArrayBound : public L {
 public:
  ArrayBound(L layer, py::array first, py::array second)
      : L(std::move(layer)), sources_{std::move(first), std::move(second)} {
    pull();
  }
  // Never copied (copy() makes a plain L), so only its Python object, holding the GIL,
  // destroys it and the arrays' references.
  ArrayBound(const ArrayBound&) = delete;
  ArrayBound& operator=(const ArrayBound&) = delete;
  std::unique_ptr<Module> copy() const override {
    return std::make_unique<L>(static_cast<const L&>(*this));
  }
  Tensor forward(const Tensor& x) override {
    {
      py::gil_scoped_acquire gil;
      pull();
    }
    return L::forward(x);
  }
  const py::object& source(std::size_t i) const { return sources_[i]; }

 private:
  void pull() {
    for (std::size_t i = 0; i < 2; ++i) {
      Var& param = this->parameter_at(i);
      Tensor t = to_tensor(sources_[i], param.dtype());
      if (t.shape() != param.shape()) {
        throw ShapeError(this->kind() + ": the array given as " +
                         this->named_parameters()[i].first + " is " + shape_str(t.shape()) +
                         ", the parameter " + shape_str(param.shape()));
      }
      param.value() = t;  // copy-assignment: the parameter keeps its storage
    }
  }

  py::object sources_[2];
};

// Parameter i (0 or 1) of a layer as NumPy: the array it was made from (ArrayBound), else
// a live view.
template <class L>
py::object bound_param(const L& layer, std::size_t i) {
  if (const auto* bound = dynamic_cast<const ArrayBound<L>*>(&layer)) return bound->source(i);
  return value_view(layer.named_parameters()[i].second);
}

template <class L>
py::object bound_grad(const L& layer, std::size_t i) {
  return grad_copy(layer.named_parameters()[i].second);
}

bool both_arrays(const py::object& a, const py::object& b) {
  return py::isinstance<py::array>(a) && py::isinstance<py::array>(b);
}

// A Layer written in Python: a subclass of nabla.Layer with forward(x) and backward(dout),
// and parameters it registers (register_parameter). C++ calls the Python methods.
class PyLayer : public Layer {
 public:
  std::string kind() const override;
  Tensor forward(const Tensor& x) override { PYBIND11_OVERRIDE_PURE(Tensor, Layer, forward, x); }
  Tensor backward(const Tensor& dout) override {
    PYBIND11_OVERRIDE_PURE(Tensor, Layer, backward, dout);
  }
  std::unique_ptr<Module> copy() const override;
  std::size_t add_parameter(std::string name, Tensor value) {
    return register_parameter(std::move(name), std::move(value));
  }
};

// What a Sequential or a graph node keeps of a Python layer: its parameters (shared, as
// every copy() shares them) and the Python object, whose forward and backward it calls,
// holding the GIL (Sequential.predict runs without it). The cache between forward and
// backward is the Python object's own, so one Python layer used twice in one graph has
// the later forward's; and its train/eval mode is its own.
class PyLayerCopy : public Layer {
 public:
  PyLayerCopy(const Layer& original, py::object self) : Layer(original), self_(std::move(self)) {}
  PyLayerCopy(const PyLayerCopy&) = delete;
  PyLayerCopy& operator=(const PyLayerCopy&) = delete;
  ~PyLayerCopy() override {
    py::gil_scoped_acquire gil;  // a Sequential may be destroyed on any thread
    self_ = py::object();
  }
  std::string kind() const override {
    py::gil_scoped_acquire gil;
    return self_.attr("kind").cast<std::string>();
  }
  Tensor forward(const Tensor& x) override { return call("forward", x); }
  Tensor backward(const Tensor& dout) override { return call("backward", dout); }
  std::unique_ptr<Module> copy() const override {
    py::gil_scoped_acquire gil;
    return std::make_unique<PyLayerCopy>(static_cast<const Layer&>(*this), self_);
  }

 private:
  Tensor call(const char* method, const Tensor& t) {
    py::gil_scoped_acquire gil;
    return to_tensor(self_.attr(method)(t), t.dtype());
  }

  py::object self_;
};

std::string PyLayer::kind() const {
  py::gil_scoped_acquire gil;
  return py::str(py::type::of(py::cast(static_cast<const Layer*>(this))).attr("__name__"));
}

std::unique_ptr<Module> PyLayer::copy() const {
  py::gil_scoped_acquire gil;
  py::object self = py::cast(static_cast<const Layer*>(this));
  return std::make_unique<PyLayerCopy>(static_cast<const Layer&>(*this), std::move(self));
}

void bind_module(py::module_& m) {
  py::class_<Module>(m, "Module", R"(
Named parameters, buffers and submodules, and a train/eval mode (PyTorch's nn.Module).)")
      .def_property_readonly("kind", &Module::kind,
                             "The kind: the class name (Affine, Sequential, ...).")
      .def("named_parameters", &Module::named_parameters,
           "[(name, Var)] of this module and its submodules, in registration order.")
      .def_property_readonly(
          "params", [](const Module& module) { return views_by_name(module.named_parameters()); },
          "{name: NumPy array} of the parameters, live views: params['W1'] -= lr * grad "
          "updates the module (the textbook's update).")
      .def_property_readonly(
          "grads",
          [](const Module& module) {
            py::dict d;
            for (const auto& [name, p] : module.named_parameters()) d[py::str(name)] = grad_copy(p);
            return d;
          },
          "{name: NumPy array} of the parameters' gradients as they are now (read-only copies).")
      .def("named_buffers", &Module::named_buffers,
           "[(name, Var)] of the state without gradients (running statistics).")
      .def("parameters", &Module::parameters, "The parameters as Vars, in registration order.")
      .def("parameter", &Module::parameter, py::arg("name"), "The parameter of that name (a Var).")
      .def("train", &Module::train, py::arg("on") = true,
           "Training mode (the default) for this module and every submodule.")
      .def("eval", &Module::eval, "Evaluation mode: layers keep nothing for backward.")
      .def_property_readonly("training", &Module::is_training, "Whether in training mode.")
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
  py::class_<Layer, Module, PyLayer>(m, "Layer", R"(
One input, one output: forward(x), backward(dout).

Subclass it in Python to write a layer of your own: call super().__init__(), register
parameters with register_parameter(name, array), define forward(x) and backward(dout)
(returning arrays or Tensors; add parameter gradients with
parameter(name).accumulate_grad(g)). It works in a Sequential, as a graph node and in
gradient checks.)")
      .def(py::init<>())
      .def(
          "register_parameter",
          [](Layer& layer, std::string name, const py::object& value) {
            auto* python_layer = dynamic_cast<PyLayer*>(&layer);
            if (python_layer == nullptr) {
              throw py::type_error(
                  "register_parameter: only a layer written in Python (a "
                  "subclass of nabla.Layer) registers parameters; this is a " +
                  layer.kind());
            }
            python_layer->add_parameter(std::move(name), to_tensor(value));
          },
          py::arg("name"), py::arg("value"),
          "A parameter of this Python layer, copied from value (float32 stays float32).")
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
            const Tensor& d = as_tensor(dout, module_dtype(layer), storage);
            // The textbook's backward by hand: dW, db are this backward's gradients.
            for (Var& p : layer.parameters()) {
              if (p.has_grad()) p.grad().fill(0.0);
            }
            return layer.backward(d);
          },
          py::arg("dout"),
          "dL/dx from dL/d(output). By hand, as in the textbook, each parameter's gradient "
          "becomes this backward's (dW, db); inside a graph or Sequential.gradient they add up.")
      .def(
          "__call__", [](Layer& layer, const Var& x) { return layer(x); }, py::arg("x"),
          "As a graph node.")
      .def("set_input_grad", &Layer::set_input_grad, py::arg("needed"),
           "Whether backward computes dL/dx (a first layer needs none).");

  py::class_<Relu, Layer>(m, "Relu", "max(x, 0); keeps the mask of x <= 0 for backward.")
      .def(py::init<>())
      .def_property_readonly(
          "mask",
          [](const Relu& r) -> py::object {
            if (r.mask().empty() && r.mask_shape().empty()) return py::none();
            std::vector<py::ssize_t> shape(r.mask_shape().begin(), r.mask_shape().end());
            py::array_t<bool> mask(shape);
            bool* out = mask.mutable_data();
            for (std::size_t i = 0; i < r.mask().size(); ++i) out[i] = r.mask()[i] != 0;
            mask.attr("flags").attr("writeable") = false;
            return py::object(std::move(mask));
          },
          "True where the latest forward's x <= 0 (a read-only copy); None before one.");
  py::class_<Sigmoid, Layer>(m, "Sigmoid", "1 / (1 + e^-x); keeps its output for backward.")
      .def(py::init<>())
      .def_property_readonly(
          "out",
          [](const Sigmoid& s) -> py::object {
            return s.output().defined() ? py::object(numpy_copy(s.output())) : py::none();
          },
          "The latest forward's output (a read-only copy); None before one.");
  py::class_<Tanh, Layer>(m, "Tanh", "tanh(x); keeps its output for backward.")
      .def(py::init<>())
      .def_property_readonly(
          "out",
          [](const Tanh& t) -> py::object {
            return t.output().defined() ? py::object(numpy_copy(t.output())) : py::none();
          },
          "The latest forward's output (a read-only copy); None before one.");
  py::class_<Softmax, Layer>(m, "Softmax", "Row-wise softmax (stable); keeps its output.")
      .def(py::init<>());
  py::class_<Affine, Layer>(m, "Affine", "Y = X.W + b; W (D, M), b (M).")
      .def(py::init([](std::int64_t inputs, std::int64_t outputs, double init_std, Rng* rng,
                       DType dtype) {
             Rng fresh;
             return Affine(inputs, outputs, init_std, rng ? *rng : fresh, dtype);
           }),
           py::arg("inputs"), py::arg("outputs"), py::arg("init_std") = 0.01,
           py::arg("rng") = nullptr, py::arg("dtype") = DType::f32,
           "W ~ init_std * N(0, 1), b = 0 (rng: a fresh Rng(42) if None).")
      .def(py::init([](const py::object& W, const py::object& b) -> std::unique_ptr<Affine> {
             Affine layer(to_tensor(W), to_tensor(b));
             if (!both_arrays(W, b)) return std::make_unique<Affine>(std::move(layer));
             return std::make_unique<ArrayBound<Affine>>(std::move(layer),
                                                         py::reinterpret_borrow<py::array>(W),
                                                         py::reinterpret_borrow<py::array>(b));
           }),
           py::arg("W"), py::arg("b"),
           "From given weights. NumPy arrays stay the layer's W and b, as in the textbook: "
           "each forward reads them, so updating them in place trains the layer. Other "
           "values (lists, Tensors) are copied.")
      .def_property_readonly(
          "W", [](const Affine& a) { return bound_param(a, 0); },
          "The weights (D, M): a live NumPy view, or the array given to Affine(W, b) "
          "(the Var: parameter('W')).")
      .def_property_readonly(
          "b", [](const Affine& a) { return bound_param(a, 1); }, "The bias (M), as W.")
      .def_property_readonly(
          "x",
          [](const Affine& a) -> py::object {
            return a.input().defined() ? py::object(numpy_copy(a.input())) : py::none();
          },
          "The latest forward's input, flattened to (N, D) (a read-only copy); None before.")
      .def_property_readonly(
          "dW", [](const Affine& a) { return grad_copy(a.W()); },
          "dL/dW of the latest backward (a read-only copy).")
      .def_property_readonly(
          "db", [](const Affine& a) { return grad_copy(a.b()); },
          "dL/db of the latest backward (a read-only copy).");

  py::class_<LossLayer>(m, "LossLayer",
                        "A loss: forward(scores, targets) gives the mean loss, backward(dout) "
                        "dL/d(scores).")
      .def_property_readonly("kind", &LossLayer::kind, "The class name.")
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
  py::class_<SoftmaxWithLoss, LossLayer>(
      m, "SoftmaxWithLoss",
      "Softmax then cross-entropy, fused: the loss from the scores (never log 0), backward "
      "(y - t) / N.")
      .def(py::init<>())
      .def_property_readonly(
          "probabilities", [](const SoftmaxWithLoss& l) { return Tensor(l.probabilities()); },
          "A copy of the softmax output of the latest forward.")
      .def_property_readonly(
          "y",
          [](const SoftmaxWithLoss& l) -> py::object {
            if (!l.probabilities().defined()) return py::none();
            return numpy_copy(l.probabilities());
          },
          "The softmax output (N, C) of the latest forward (a read-only copy); None before.")
      .def_property_readonly(
          "t",
          [](const SoftmaxWithLoss& l) -> py::object {
            if (l.one_hot_targets().defined()) return numpy_copy(l.one_hot_targets());
            if (!l.probabilities().defined()) return py::none();
            py::array_t<std::int64_t> t(static_cast<py::ssize_t>(l.labels().size()),
                                        l.labels().data());
            t.attr("flags").attr("writeable") = false;
            return py::object(std::move(t));
          },
          "The latest forward's targets: class indices (N) or one-hot rows (N, C).")
      .def_property_readonly("loss", &SoftmaxWithLoss::loss, "The latest forward's mean loss.");
  py::class_<SvmLoss, LossLayer>(
      m, "SvmLoss", "Multiclass hinge loss: sum over j != t of max(0, s_j - s_t + margin).")
      .def(py::init<double>(), py::arg("margin") = 1.0)
      .def_property_readonly("sample_losses", &SvmLoss::sample_losses,
                             "The per-sample losses of the latest forward.");
  m.def(
      "cross_entropy_error",
      [](const Tensor& y, const py::object& t) { return cross_entropy_error(y, to_targets(t)); },
      py::arg("y"), py::arg("t"), "Mean of -log(y[t] + 1e-7) over the batch.");
}

// forward(x, train_flg): the textbook's Dropout and BatchNormalization take the mode with
// each call; nabla's layers keep it (train(), eval()). A given train_flg sets it for the
// call only; None keeps the layer's.
template <class L>
Tensor forward_in_mode(L& layer, const py::object& x, std::optional<bool> train_flg) {
  Tensor storage;
  const Tensor& in = as_tensor(x, module_dtype(layer), storage);
  const bool was = layer.is_training();
  layer.train(train_flg.value_or(was));
  try {
    Tensor y = layer.forward(in);
    layer.train(was);
    return y;
  } catch (...) {
    layer.train(was);
    throw;
  }
}

py::tuple window_tuple(const Window2d& w) { return py::make_tuple(w.kernel_h, w.kernel_w); }

void bind_cnn_layers(py::module_& m) {
  py::class_<Conv2D, Layer>(m, "Conv2D", R"(
2-d convolution, the textbook's Convolution (also nabla.Convolution): input (N, C, H, W),
W (FN, C, FH, FW), b (FN), stride, pad; output (N, FN, OH, OW) by im2col and one product.)")
      .def(py::init([](std::int64_t in_channels, std::int64_t filters, std::int64_t kernel,
                       std::int64_t stride, std::int64_t pad, double init_std, Rng* rng,
                       DType dtype) {
             Rng fresh;
             return Conv2D(in_channels, filters, kernel, stride, pad, init_std, rng ? *rng : fresh,
                           dtype);
           }),
           py::arg("in_channels"), py::arg("filters"), py::arg("kernel"), py::arg("stride") = 1,
           py::arg("pad") = 0, py::arg("init_std") = 0.01, py::arg("rng") = nullptr,
           py::arg("dtype") = DType::f32, "W ~ init_std * N(0, 1), b = 0 (rng: Rng(42) if None).")
      .def(py::init([](const py::object& W, const py::object& b, std::int64_t stride,
                       std::int64_t pad) -> std::unique_ptr<Conv2D> {
             Conv2D layer(to_tensor(W), to_tensor(b), stride, pad);
             if (!both_arrays(W, b)) return std::make_unique<Conv2D>(std::move(layer));
             return std::make_unique<ArrayBound<Conv2D>>(std::move(layer),
                                                         py::reinterpret_borrow<py::array>(W),
                                                         py::reinterpret_borrow<py::array>(b));
           }),
           py::arg("W"), py::arg("b"), py::arg("stride") = 1, py::arg("pad") = 0,
           "From given weights; NumPy arrays stay the layer's W and b, as Affine(W, b)'s.")
      .def_property_readonly(
          "W", [](const Conv2D& c) { return bound_param(c, 0); }, "The filters (FN, C, FH, FW).")
      .def_property_readonly(
          "b", [](const Conv2D& c) { return bound_param(c, 1); }, "The biases (FN).")
      .def_property_readonly(
          "dW", [](const Conv2D& c) { return bound_grad(c, 0); },
          "dL/dW of the latest backward (a read-only copy).")
      .def_property_readonly(
          "db", [](const Conv2D& c) { return bound_grad(c, 1); },
          "dL/db of the latest backward (a read-only copy).")
      .def_property_readonly(
          "stride", [](const Conv2D& c) { return c.window().stride; }, "The stride.")
      .def_property_readonly(
          "pad", [](const Conv2D& c) { return c.window().pad; }, "The zero padding.")
      .def_property_readonly(
          "kernel", [](const Conv2D& c) { return window_tuple(c.window()); }, "(FH, FW).");

  py::class_<MaxPool2D, Layer>(m, "MaxPool2D", R"(
Max pooling over size x size windows (the textbook's Pooling; nabla.Pooling(pool_h, pool_w,
stride, pad) makes one). stride 0 means stride = size.)")
      .def(py::init<std::int64_t, std::int64_t, std::int64_t>(), py::arg("size"),
           py::arg("stride") = 0, py::arg("pad") = 0, "A size x size window.")
      .def_property_readonly(
          "pool_h", [](const MaxPool2D& p) { return p.window().kernel_h; }, "Window height.")
      .def_property_readonly(
          "pool_w", [](const MaxPool2D& p) { return p.window().kernel_w; }, "Window width.")
      .def_property_readonly(
          "stride", [](const MaxPool2D& p) { return p.window().stride; }, "The stride.")
      .def_property_readonly(
          "pad", [](const MaxPool2D& p) { return p.window().pad; }, "The padding.");
  py::class_<AvgPool2D, Layer>(m, "AvgPool2D", "Average pooling over size x size windows.")
      .def(py::init<std::int64_t, std::int64_t, std::int64_t>(), py::arg("size"),
           py::arg("stride") = 0, py::arg("pad") = 0, "A size x size window.")
      .def_property_readonly(
          "pool_h", [](const AvgPool2D& p) { return p.window().kernel_h; }, "Window height.")
      .def_property_readonly(
          "pool_w", [](const AvgPool2D& p) { return p.window().kernel_w; }, "Window width.")
      .def_property_readonly(
          "stride", [](const AvgPool2D& p) { return p.window().stride; }, "The stride.")
      .def_property_readonly(
          "pad", [](const AvgPool2D& p) { return p.window().pad; }, "The padding.");

  py::class_<BatchNorm, Layer>(m, "BatchNorm", R"(
Batch normalization (the textbook's BatchNormalization, which nabla.BatchNormalization(gamma,
beta, momentum, running_mean, running_var) makes): per feature (or channel of an (N, C, H, W)
input), xhat = (x - mean) / sqrt(var + eps), y = gamma * xhat + beta; running statistics
for evaluation, updated with momentum.)")
      .def(py::init<std::int64_t, double, double, DType>(), py::arg("features"),
           py::arg("momentum") = 0.9, py::arg("eps") = 1e-5, py::arg("dtype") = DType::f32,
           "gamma = 1, beta = 0, running mean 0 and variance 1.")
      .def(py::init([](const py::array& gamma, const py::array& beta, double momentum,
                       double eps) -> std::unique_ptr<BatchNorm> {
             Tensor g = to_tensor(gamma);
             if (g.rank() != 1) {
               throw ShapeError("BatchNorm: gamma " + shape_str(g.shape()) + ", expected (D)");
             }
             BatchNorm layer(g.size(0), momentum, eps, g.dtype());
             return std::make_unique<ArrayBound<BatchNorm>>(std::move(layer), gamma, beta);
           }),
           py::arg("gamma"), py::arg("beta"), py::arg("momentum") = 0.9, py::arg("eps") = 1e-5,
           "From NumPy arrays gamma and beta (D), which stay the layer's, as Affine(W, b)'s.")
      .def_property_readonly(
          "gamma", [](const BatchNorm& b) { return bound_param(b, 0); }, "The scale (D).")
      .def_property_readonly(
          "beta", [](const BatchNorm& b) { return bound_param(b, 1); }, "The shift (D).")
      .def_property_readonly(
          "dgamma", [](const BatchNorm& b) { return bound_grad(b, 0); },
          "dL/dgamma of the latest backward (a read-only copy).")
      .def_property_readonly(
          "dbeta", [](const BatchNorm& b) { return bound_grad(b, 1); },
          "dL/dbeta of the latest backward (a read-only copy).")
      .def_property_readonly(
          "running_mean",
          [](const BatchNorm& b) { return value_view(b.named_buffers()[0].second); },
          "The running mean (D), a live view.")
      .def_property_readonly(
          "running_var", [](const BatchNorm& b) { return value_view(b.named_buffers()[1].second); },
          "The running variance (D), a live view.")
      .def("forward", &forward_in_mode<BatchNorm>, py::arg("x"), py::arg("train_flg") = py::none(),
           "The textbook's form: forward in training mode or not, for this call.");

  py::class_<Dropout, Layer>(m, "Dropout", R"(
Inverted dropout: in training mode each element is dropped with probability
dropout_ratio and the others scaled by 1 / (1 - dropout_ratio); in evaluation mode the
identity. Its random stream is its own (seed).)")
      .def(py::init<double, std::uint64_t>(), py::arg("dropout_ratio") = 0.5, py::arg("seed") = 42,
           "The drop probability in [0, 1).")
      .def_property_readonly("dropout_ratio", &Dropout::p, "The drop probability.")
      .def("forward", &forward_in_mode<Dropout>, py::arg("x"), py::arg("train_flg") = py::none(),
           "The textbook's form: forward in training mode or not, for this call.");
  py::class_<Flatten, Layer>(m, "Flatten", "(N, ...) to (N, D); backward restores the shape.")
      .def(py::init<>());
  m.attr("Convolution") = m.attr("Conv2D");
}

// A SparseAffine that keeps the pixel rows of its latest forward_pixels, which its
// backward reads. A copy (Sequential.add) is a plain SparseAffine sharing the parameters.
class PixelSparseAffine : public SparseAffine {
 public:
  using SparseAffine::SparseAffine;
  PixelSparseAffine(const PixelSparseAffine&) = delete;
  PixelSparseAffine& operator=(const PixelSparseAffine&) = delete;
  Tensor forward_pixels(const py::array& pixels, double scale) {
    if (!pixels.dtype().is(py::dtype::of<std::uint8_t>()) || pixels.ndim() != 2) {
      throw py::type_error("SparseAffine.forward_pixels: expected uint8 pixel rows (N, D), got " +
                           py::str(pixels.dtype()).cast<std::string>() + " with " +
                           std::to_string(pixels.ndim()) + " dimensions");
    }
    const std::int64_t d = W().value().size(0);
    if (pixels.shape(1) != d) {
      throw ShapeError("SparseAffine.forward_pixels: rows of " + std::to_string(d) +
                       " pixels expected (W is " + shape_str(W().shape()) + "), got " +
                       std::to_string(pixels.shape(1)));
    }
    auto rows = py::array_t<std::uint8_t, py::array::c_style>::ensure(pixels);
    pixels_ = SparsePixels(rows.data(), rows.shape(0), rows.shape(1), static_cast<float>(scale));
    SparseBatch batch;
    batch.pixels = &pixels_;
    batch.rows.resize(static_cast<std::size_t>(rows.shape(0)));
    for (std::size_t i = 0; i < batch.rows.size(); ++i)
      batch.rows[i] = static_cast<std::int64_t>(i);
    return SparseAffine::forward(batch);
  }

 private:
  SparsePixels pixels_;
};

void bind_table_layers(py::module_& m) {
  py::class_<Embedding, Layer>(m, "Embedding", R"(
A table W (V, d) of vectors looked up by integer ids: forward(ids) with ids (N, k) or (N)
of int in [0, V) gives (N, k*d) (each example's k vectors side by side) or (N, d). backward
adds dL/dW into the rows the batch used only: as rows (row_grad, the sparse mode, which
the optimizers update lazily) or into W's grad (dense_grad=True, what gradient checks
read). dW is the gradient as a dense (V, d) array either way.)")
      .def(py::init([](const py::object& table, bool dense_grad) {
             return Embedding(to_tensor(table),
                              dense_grad ? EmbeddingGrad::dense : EmbeddingGrad::sparse);
           }),
           py::arg("table"), py::arg("dense_grad") = false,
           "From a table (V, d) of vectors (copied; float32 stays float32).")
      .def(py::init([](std::int64_t vocab, std::int64_t dim, double scale, Rng* rng, DType dtype,
                       bool dense_grad) {
             Rng fresh;
             return Embedding(vocab, dim, scale, rng ? *rng : fresh, dtype,
                              dense_grad ? EmbeddingGrad::dense : EmbeddingGrad::sparse);
           }),
           py::arg("vocab"), py::arg("dim"), py::arg("scale") = 0.1, py::arg("rng") = nullptr,
           py::arg("dtype") = DType::f32, py::arg("dense_grad") = false,
           "W ~ U(-scale, scale) (rng: Rng(42) if None).")
      .def(
          "forward",
          [](Embedding& e, const py::object& ids) {
            return e.forward(to_ids(ids, "Embedding ids"));
          },
          py::arg("ids"), "The vectors of ids (N, k) -> (N, k*d), or (N) -> (N, d).")
      .def(
          "backward",
          [](Embedding& e, const py::object& dout) {
            Tensor storage;
            const Tensor& d = as_tensor(dout, e.W().dtype(), storage);
            e.clear_row_grad();  // by hand, as the textbook's: this backward's gradient
            if (e.W().has_grad()) e.W().grad().fill(0.0);
            e.backward(d);
            return py::none();
          },
          py::arg("dout"),
          "Adds dL/dW from dout (N, k*d) (by hand: the gradient becomes this backward's); "
          "returns None (ids have no gradient).")
      .def_property_readonly(
          "W", [](const Embedding& e) { return value_view(e.W()); },
          "The table (V, d), a live view.")
      .def_property_readonly(
          "dW",
          [](const Embedding& e) {
            if (e.grad_mode() == EmbeddingGrad::dense) return grad_copy(e.W());
            return numpy_copy(e.row_grad().empty() ? Tensor::zeros(e.W().shape(), e.W().dtype())
                                                   : e.row_grad().to_dense(e.vocab()));
          },
          "dL/dW as a dense (V, d) array (a read-only copy).")
      .def_property_readonly(
          "row_grad",
          [](const Embedding& e) -> py::tuple {
            const RowGradient& g = e.row_grad();
            py::array_t<std::int64_t> rows(static_cast<py::ssize_t>(g.rows.size()), g.rows.data());
            rows.attr("flags").attr("writeable") = false;
            py::object values =
                g.empty() ? py::object(py::none()) : py::object(numpy_copy(g.values));
            return py::make_tuple(rows, values);
          },
          "(rows, values): the distinct rows used since the last clear_row_grad(), and their "
          "gradients (len(rows), d) (sparse mode; copies).")
      .def("clear_row_grad", &Embedding::clear_row_grad, "Forgets the row gradients.")
      .def_property(
          "dense_grad", [](const Embedding& e) { return e.grad_mode() == EmbeddingGrad::dense; },
          [](Embedding& e, bool dense) {
            e.set_grad_mode(dense ? EmbeddingGrad::dense : EmbeddingGrad::sparse);
          },
          "Whether backward adds into W's grad (True) or into row_grad (False).")
      .def_property_readonly("vocab", &Embedding::vocab, "V, the rows of the table.")
      .def_property_readonly("dim", &Embedding::dim, "d, the size of a vector.");

  py::class_<SparseAffine, Affine, PixelSparseAffine>(m, "SparseAffine", R"(
An Affine (Y = X.W + b, float32) that also takes pixel rows as they are stored, mostly
zeros, and multiplies their non-zero pixels only: forward_pixels(uint8 (N, D), scale)
is Y = (pixels * scale).W + b; the backward after it gives dW and db (no dX: the input is
data). A dense forward(x) works as Affine's. The first layer of nabla's MLPs.)")
      .def(py::init([](const py::object& W, const py::object& b) {
             return std::make_unique<PixelSparseAffine>(to_tensor(W, DType::f32),
                                                        to_tensor(b, DType::f32));
           }),
           py::arg("W"), py::arg("b"), "From W (D, M) and b (M), copied as float32.")
      .def(
          "forward_pixels",
          [](SparseAffine& layer, const py::array& pixels, double scale) {
            auto* own = dynamic_cast<PixelSparseAffine*>(&layer);
            if (own == nullptr) {
              throw ValueError("SparseAffine.forward_pixels: only on a layer made in Python");
            }
            return own->forward_pixels(pixels, scale);
          },
          py::arg("pixels"), py::arg("scale") = 1.0 / 255.0,
          "Y (N, M) from uint8 pixel rows (N, D), each value pixel * scale (default 1/255).");
}

void bind_sigmoid_net(py::module_& m) {
  py::class_<SigmoidTwoLayerNet>(m, "SigmoidTwoLayerNet", R"(
The textbook's first TwoLayerNet (chapter 4): sigmoid hidden layer, softmax output, and a
hand-written gradient (a1 = x.W1 + b1, z1 = sigmoid(a1), y = softmax(z1.W2 + b2),
dy = (y - t) / N, ...). params are live views; gradient() and numerical_gradient() return
{name: Tensor} for W1, b1, W2, b2.)")
      .def(py::init([](std::int64_t input_size, std::int64_t hidden_size, std::int64_t output_size,
                       double weight_init_std, Rng* rng, DType dtype) {
             Rng fresh;
             return SigmoidTwoLayerNet(input_size, hidden_size, output_size, weight_init_std,
                                       rng ? *rng : fresh, dtype);
           }),
           py::arg("input_size"), py::arg("hidden_size"), py::arg("output_size"),
           py::arg("weight_init_std") = 0.01, py::arg("rng") = nullptr,
           py::arg("dtype") = DType::f64, "W ~ weight_init_std * N(0, 1), b = 0.")
      .def_property_readonly(
          "params",
          [](const SigmoidTwoLayerNet& net) {
            std::vector<Var> p = net.parameters();
            return views_by_name({{"W1", p[0]}, {"b1", p[1]}, {"W2", p[2]}, {"b2", p[3]}});
          },
          "{W1, b1, W2, b2: NumPy array}, live views.")
      .def("parameters", &SigmoidTwoLayerNet::parameters, "[W1, b1, W2, b2] as Vars.")
      .def(
          "predict",
          [](const SigmoidTwoLayerNet& net, const py::object& x) {
            return net.predict(to_tensor(x, net.parameters()[0].dtype()));
          },
          py::arg("x"), "Softmax probabilities (N, C).")
      .def(
          "loss",
          [](const SigmoidTwoLayerNet& net, const py::object& x, const py::object& t) {
            DType dtype = net.parameters()[0].dtype();
            return net.loss(to_tensor(x, dtype), to_targets(t, dtype));
          },
          py::arg("x"), py::arg("t"), "Mean cross-entropy of predict(x) against t.")
      .def(
          "accuracy",
          [](const SigmoidTwoLayerNet& net, const py::object& x, const py::object& t) {
            return net.accuracy(to_tensor(x, net.parameters()[0].dtype()),
                                to_class_indices(t, "accuracy t"));
          },
          py::arg("x"), py::arg("t"), "Fraction of rows whose argmax is the label (or one-hot).")
      .def(
          "gradient",
          [](const SigmoidTwoLayerNet& net, const py::object& x, const py::object& t) {
            DType dtype = net.parameters()[0].dtype();
            std::vector<Tensor> g = net.gradient(to_tensor(x, dtype), to_targets(t, dtype));
            return to_dict({{"W1", g[0]}, {"b1", g[1]}, {"W2", g[2]}, {"b2", g[3]}});
          },
          py::arg("x"), py::arg("t"), "The hand-written backward: {W1, b1, W2, b2: Tensor}.")
      .def(
          "numerical_gradient",
          [](const SigmoidTwoLayerNet& net, const py::object& x, const py::object& t, double h) {
            DType dtype = net.parameters()[0].dtype();
            std::vector<Tensor> g =
                net.numerical_gradient(to_tensor(x, dtype), to_targets(t, dtype), h);
            return to_dict({{"W1", g[0]}, {"b1", g[1]}, {"W2", g[2]}, {"b2", g[3]}});
          },
          py::arg("x"), py::arg("t"), py::arg("h") = 1e-4,
          "Central differences of the loss: {W1, b1, W2, b2: Tensor}.")
      .def(
          "loss_graph",
          [](const SigmoidTwoLayerNet& net, const py::object& x, const py::object& t) {
            DType dtype = net.parameters()[0].dtype();
            return net.loss_graph(to_tensor(x, dtype), to_targets(t, dtype));
          },
          py::arg("x"), py::arg("t"),
          "The same loss built from graph ops (a scalar Var), to check gradient() against.");
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
          py::arg("layer"), py::return_value_policy::reference_internal,
          "Appends a copy of layer that shares its parameters; returns the network.")
      .def(
          "set_loss",
          [](Sequential& net, const LossLayer& loss) -> Sequential& {
            return net.set_loss(loss.copy());
          },
          py::arg("loss"), py::return_value_policy::reference_internal,
          "Sets the loss layer (a copy); returns the network.")
      .def("__len__", &Sequential::size)
      .def("layer", &Sequential::layer, py::arg("i"), py::return_value_policy::reference_internal,
           "The i-th layer (0-based), the network's own.")
      .def("loss_layer", &Sequential::loss_layer, py::return_value_policy::reference_internal,
           "The loss layer (SoftmaxWithLoss, SvmLoss).")
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
          py::arg("x"), py::arg("t"), "The mean loss of the batch (labels or one-hot t).")
      .def(
          "accuracy",
          [](Sequential& net, const py::object& x, const py::object& t) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            return net.accuracy(in, to_class_indices(t, "accuracy t"));
          },
          py::arg("x"), py::arg("t"), "Fraction of rows whose argmax is the label (or one-hot).")
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
      .def("zero_grad", &Sequential::zero_grad, "Sets every parameter's gradient to zero.")
      .def(
          "numerical_gradient",
          [](Sequential& net, const py::object& x, const py::object& t, double h) {
            Tensor storage;
            const Tensor& in = as_tensor(x, module_dtype(net), storage);
            return net.numerical_gradient(in, to_targets(t, in.dtype()), h);
          },
          py::arg("x"), py::arg("t"), py::arg("h") = 1e-4,
          "Central differences of the loss, one Tensor per parameter (slow: for checks).")
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
  bind_cnn_layers(m);
  bind_table_layers(m);
  bind_sequential(m);
  bind_sigmoid_net(m);
}

}  // namespace nabla::python
