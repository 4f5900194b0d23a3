// python/graph_bindings.cc — nabla.Var (the computational graph), the ops on Vars and on
// Tensors, and gradient checking.
//
//   x = nabla.parameter(-2.0, "x"); y = nabla.parameter(5.0, "y"); z = nabla.parameter(-4.0)
//   f = (x + y) * z        # -12
//   f.backward()           # x.grad = -4, y.grad = -4, z.grad = 3
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings.h"
#include "nabla/autograd/dot.h"
#include "nabla/autograd/gradcheck.h"
#include "nabla/autograd/graph.h"
#include "nabla/autograd/jacobian.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/batch_norm.h"
#include "nabla/ops/conv.h"
#include "nabla/ops/dropout.h"
#include "nabla/ops/indexing.h"
#include "nabla/ops/logistic_loss.h"
#include "nabla/ops/ops.h"
#include "nabla/ops/pool.h"

namespace nabla::python {
namespace {

bool is_number(const py::handle& x) {
  return py::isinstance<py::float_>(x) || py::isinstance<py::int_>(x);
}

// The other operand of a Var operator: a Var as it is; a Tensor, array or list as a
// constant of a's dtype.
Var operand(const Var& a, const py::handle& b) {
  if (py::isinstance<Var>(b)) return b.cast<Var>();
  return Var::constant(to_tensor(b, a.dtype()));
}

std::string repr(const Var& v) {
  std::string what = v.op().empty() ? (v.requires_grad() ? "parameter" : "constant") : v.op();
  std::string text = v.value().numel() <= 16 ? ", " + to_string(v.value()) : "";
  std::string name = v.name().empty() ? "" : " '" + v.name() + "'";
  return "Var(" + what + name + ", shape=" + shape_str(v.shape()) +
         ", dtype=" + dtype_name(v.dtype()) + text + ")";
}

void bind_var(py::module_& m) {
  py::class_<Var> var(m, "Var", R"(
A node of the computational graph: a value, and (after backward) the gradient of the final
output with respect to it. Var(value, requires_grad=False, name="") makes a leaf (value is
copied, as by nabla.Tensor); ops on Vars record nodes whose backward applies the chain rule.
A copy of a Var names the same node.)");
  // NumPy leaves `array * var` and the like to Var's reflected operators.
  var.attr("__array_ufunc__") = py::none();
  var.def(py::init([](const py::object& value, bool requires_grad, std::string name) {
            return Var(to_tensor(value), requires_grad, std::move(name));
          }),
          py::arg("value"), py::arg("requires_grad") = false, py::arg("name") = "")
      .def_property_readonly(
          "value", [](Var& v) -> Tensor& { return v.value(); },
          py::return_value_policy::reference_internal,
          "The forward value (the node's own tensor: a NumPy view of it sees updates).")
      .def_property_readonly(
          "grad",
          [](Var& v) -> py::object {
            if (!v.requires_grad()) return py::none();
            return py::cast(Tensor(v.grad()));
          },
          "A copy of the gradient as it is now (zeros until one arrives; None for a Var that "
          "needs none). A copy: backward and zero_grad replace the gradient's storage.")
      .def_property_readonly(
          "shape", [](const Var& v) { return py::tuple(py::cast(v.shape())); },
          "The value's shape.")
      .def_property_readonly("dtype", &Var::dtype, "f32 or f64.")
      .def_property_readonly("requires_grad", &Var::requires_grad, "Whether it gets a gradient.")
      .def_property_readonly("op", &Var::op, "The op that made it ('mul', ...); '' for a leaf.")
      .def_property(
          "name", &Var::name, [](Var& v, std::string name) { v.set_name(name); },
          "The node's name (in graphs and error messages).")
      .def("item", &Var::item, "The value of a one-element Var as a Python float.")
      .def(
          "numpy",
          [](const py::object& self) {
            Tensor& value = self.cast<Var&>().value();
            return py::cast(&value, py::return_value_policy::reference_internal, self)
                .attr("numpy")();
          },
          "A NumPy view of the value (no copy).")
      .def("zero_grad", &Var::zero_grad, "Forgets the gradient (they accumulate otherwise).")
      .def(
          "accumulate_grad",
          [](const Var& v, const py::object& g) {
            if (!v.requires_grad()) throw ValueError("accumulate_grad: the Var needs no gradient");
            accumulate_grad(v, to_tensor(g, v.dtype()), "accumulate_grad");
          },
          py::arg("g"), "Adds g (of the Var's shape) into its gradient, as an op's backward does.")
      .def(
          "backward",
          [](Var& v, const py::object& upstream) {
            if (upstream.is_none()) {
              v.backward();
            } else {
              v.backward(to_tensor(upstream, v.dtype()));
            }
          },
          py::arg("upstream") = py::none(),
          "Backpropagates from this Var: d(self)/d(self) = 1 for a scalar, else upstream.")
      .def("__repr__", &repr)
      .def("__neg__", [](const Var& a) { return neg(a); })
      .def(
          "__add__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? add_scalar(a, b.cast<double>()) : add(a, operand(a, b));
          },
          py::arg("other"))
      .def(
          "__radd__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? add_scalar(a, b.cast<double>()) : add(operand(a, b), a);
          },
          py::arg("other"))
      .def(
          "__sub__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? add_scalar(a, -b.cast<double>()) : sub(a, operand(a, b));
          },
          py::arg("other"))
      .def(
          "__rsub__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? add_scalar(neg(a), b.cast<double>()) : sub(operand(a, b), a);
          },
          py::arg("other"))
      .def(
          "__mul__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? scale(a, b.cast<double>()) : mul(a, operand(a, b));
          },
          py::arg("other"))
      .def(
          "__rmul__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? scale(a, b.cast<double>()) : mul(operand(a, b), a);
          },
          py::arg("other"))
      .def(
          "__truediv__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? scale(a, 1.0 / b.cast<double>()) : div(a, operand(a, b));
          },
          py::arg("other"))
      .def(
          "__rtruediv__",
          [](const Var& a, const py::object& b) {
            return is_number(b) ? scale(reciprocal(a), b.cast<double>()) : div(operand(a, b), a);
          },
          py::arg("other"))
      .def(
          "__pow__", [](const Var& a, double p) { return pow(a, p); }, py::arg("p"))
      .def(
          "__matmul__", [](const Var& a, const py::object& b) { return matmul(a, operand(a, b)); },
          py::arg("other"))
      .def(
          "__rmatmul__", [](const Var& a, const py::object& b) { return matmul(operand(a, b), a); },
          py::arg("other"));
  m.def(
      "parameter",
      [](const py::object& value, std::string name) {
        return Var::parameter(to_tensor(value), std::move(name));
      },
      py::arg("value"), py::arg("name") = "", "A leaf Var that gets a gradient.");
  m.def(
      "constant",
      [](const py::object& value, std::string name) {
        return Var::constant(to_tensor(value), std::move(name));
      },
      py::arg("value"), py::arg("name") = "", "A leaf Var that gets no gradient.");
  m.def("to_dot", &to_dot, py::arg("root"), py::arg("title") = "nabla",
        "The graph that made root, in Graphviz DOT (values, shapes and gradients).");
}

// Each op on Vars (recorded in the graph) and on Tensors (computed only). The Tensor form
// also takes NumPy arrays (copied into a Tensor).
template <class VarFn, class TensorFn, class... Args>
void def_op(py::module_& m, const char* name, VarFn var_fn, TensorFn tensor_fn, const char* doc,
            const Args&... args) {
  m.def(name, var_fn, doc, args...);
  m.def(name, tensor_fn, doc, args...);
}

void bind_ops(py::module_& m) {
  using V = const Var&;
  using T = const Tensor&;
  def_op(
      m, "add", [](V a, V b) { return add(a, b); }, [](T a, T b) { return add(a, b); },
      "a + b, broadcasting NumPy-style.", py::arg("a"), py::arg("b"));
  def_op(
      m, "sub", [](V a, V b) { return sub(a, b); }, [](T a, T b) { return sub(a, b); }, "a - b.",
      py::arg("a"), py::arg("b"));
  def_op(
      m, "mul", [](V a, V b) { return mul(a, b); }, [](T a, T b) { return mul(a, b); },
      "a * b, elementwise.", py::arg("a"), py::arg("b"));
  def_op(
      m, "div", [](V a, V b) { return div(a, b); }, [](T a, T b) { return div(a, b); },
      "a / b, elementwise.", py::arg("a"), py::arg("b"));
  def_op(
      m, "maximum", [](V a, V b) { return maximum(a, b); }, [](T a, T b) { return maximum(a, b); },
      "Elementwise max (gradient to a on ties).", py::arg("a"), py::arg("b"));
  def_op(
      m, "matmul", [](V a, V b) { return matmul(a, b); }, [](T a, T b) { return matmul(a, b); },
      "The 2-d matrix product a @ b.", py::arg("a"), py::arg("b"));
  def_op(
      m, "neg", [](V a) { return neg(a); }, [](T a) { return neg(a); }, "-a.", py::arg("a"));
  def_op(
      m, "exp", [](V a) { return exp(a); }, [](T a) { return exp(a); }, "e^a.", py::arg("a"));
  def_op(
      m, "log", [](V a) { return log(a); }, [](T a) { return log(a); }, "Natural log.",
      py::arg("a"));
  def_op(
      m, "square", [](V a) { return square(a); }, [](T a) { return square(a); }, "a^2.",
      py::arg("a"));
  def_op(
      m, "relu", [](V a) { return relu(a); }, [](T a) { return relu(a); }, "max(a, 0).",
      py::arg("a"));
  def_op(
      m, "sigmoid", [](V a) { return sigmoid(a); }, [](T a) { return sigmoid(a); },
      "1 / (1 + e^-a).", py::arg("a"));
  def_op(
      m, "tanh", [](V a) { return tanh(a); }, [](T a) { return tanh(a); }, "tanh(a).",
      py::arg("a"));
  def_op(
      m, "softmax", [](V a) { return softmax(a); }, [](T a) { return softmax(a); },
      "Row-wise softmax (stable).", py::arg("a"));
  def_op(
      m, "transpose", [](V a) { return transpose(a); }, [](T a) { return transpose(a); },
      "The transpose of a 2-d a.", py::arg("a"));
  def_op(
      m, "pow", [](V a, double p) { return pow(a, p); }, [](T a, double p) { return pow(a, p); },
      "a^p.", py::arg("a"), py::arg("p"));
  def_op(
      m, "scale", [](V a, double s) { return scale(a, s); },
      [](T a, double s) { return scale(a, s); }, "a * s.", py::arg("a"), py::arg("s"));
  def_op(
      m, "add_scalar", [](V a, double s) { return add_scalar(a, s); },
      [](T a, double s) { return add_scalar(a, s); }, "a + s.", py::arg("a"), py::arg("s"));
  m.def(
      "reciprocal", [](V a) { return reciprocal(a); }, py::arg("a"), "1 / a.");
  m.def(
      "reshape", [](V a, const Shape& shape) { return reshape(a, shape); }, py::arg("a"),
      py::arg("shape"), "The same elements in another shape of the same count.");
  m.def(
      "reshape", [](T a, const Shape& shape) { return a.reshape(shape); }, py::arg("a"),
      py::arg("shape"), "The same elements in another shape of the same count.");

  // Reductions over everything (axis None) or one axis (removed).
  auto reduction = [&m](const char* name, auto var_all, auto var_axis, auto tensor_all,
                        auto tensor_axis, const char* doc) {
    m.def(
        name,
        [=](V a, std::optional<std::int64_t> axis) {
          return axis ? var_axis(a, *axis) : var_all(a);
        },
        py::arg("a"), py::arg("axis") = py::none(), doc);
    m.def(
        name,
        [=](T a, std::optional<std::int64_t> axis) {
          return axis ? tensor_axis(a, *axis) : tensor_all(a);
        },
        py::arg("a"), py::arg("axis") = py::none(), doc);
  };
  reduction(
      "sum", [](V a) { return sum(a); }, [](V a, std::int64_t k) { return sum(a, k); },
      [](T a) { return sum(a); }, [](T a, std::int64_t k) { return sum(a, k); },
      "Sum over all elements, or over one axis.");
  reduction(
      "mean", [](V a) { return mean(a); }, [](V a, std::int64_t k) { return mean(a, k); },
      [](T a) { return mean(a); }, [](T a, std::int64_t k) { return mean(a, k); },
      "Mean over all elements, or over one axis.");
  reduction(
      "max", [](V a) { return max(a); }, [](V a, std::int64_t k) { return max(a, k); },
      [](T a) { return max(a); }, [](T a, std::int64_t k) { return max(a, k); },
      "Max over all elements, or over one axis (gradient to the first maximal element).");

  m.def(
      "softmax_with_loss",
      [](V scores, const py::object& targets) {
        SoftmaxWithLoss loss;
        return loss(scores, to_targets(targets, scores.dtype()));
      },
      py::arg("scores"), py::arg("targets"),
      "Mean cross-entropy of softmax(scores) (N, C) against labels (N) or one-hot rows (N, C), "
      "as one node whose backward is (y - t) / N.");
  m.def(
      "accuracy",
      [](T scores, const py::object& labels) {
        return accuracy(scores, to_class_indices(labels, "accuracy labels"));
      },
      py::arg("scores"), py::arg("labels"), "Fraction of rows whose argmax is the label.");
  m.def("argmax_rows", &argmax_rows, py::arg("a"), "The index of each row's largest element.");
  m.def("max_abs_diff", &max_abs_diff, py::arg("a"), py::arg("b"),
        "The largest |a - b| over the elements (tensors of one shape).");
}

// A window of kernel_h x kernel_w (stride, zero padding), as im2col and pooling take it.
Window2d window(std::int64_t kernel_h, std::int64_t kernel_w, std::int64_t stride,
                std::int64_t pad) {
  Window2d win;
  win.kernel_h = kernel_h;
  win.kernel_w = kernel_w;
  win.stride = stride;
  win.pad = pad;
  return win;
}

// The ops on images (N, C, H, W) and the others the layers are made of: each on Vars
// (recorded) and, where the library has the forward on its own, on Tensors and arrays.
void bind_image_ops(py::module_& m) {
  using V = const Var&;
  m.def(
      "im2col",
      [](const Tensor& x, std::int64_t filter_h, std::int64_t filter_w, std::int64_t stride,
         std::int64_t pad) { return im2col(x, window(filter_h, filter_w, stride, pad)); },
      py::arg("x"), py::arg("filter_h"), py::arg("filter_w"), py::arg("stride") = 1,
      py::arg("pad") = 0, R"(
The textbook's im2col: x (N, C, H, W) -> (N*OH*OW, C*FH*FW), one row per receptive field
(channel, then row, then column inside it), padding read as zeros;
OH = (H + 2*pad - FH) // stride + 1, likewise OW.)");
  m.def(
      "col2im",
      [](const Tensor& cols, const Shape& input_shape, std::int64_t filter_h, std::int64_t filter_w,
         std::int64_t stride, std::int64_t pad) {
        return col2im(cols, input_shape, window(filter_h, filter_w, stride, pad));
      },
      py::arg("col"), py::arg("input_shape"), py::arg("filter_h"), py::arg("filter_w"),
      py::arg("stride") = 1, py::arg("pad") = 0, R"(
The adjoint of im2col: rows (N*OH*OW, C*FH*FW) added back into an image of input_shape
(N, C, H, W); pixels in several fields get the sum.)");
  def_op(
      m, "conv2d",
      [](V x, V w, V b, std::int64_t stride, std::int64_t pad) {
        return conv2d(x, w, b, stride, pad);
      },
      [](const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t stride, std::int64_t pad) {
        return conv2d(x, w, b, stride, pad);
      },
      "Convolution: x (N, C, H, W), w (F, C, KH, KW), b (F) -> (N, F, OH, OW).", py::arg("x"),
      py::arg("w"), py::arg("b"), py::arg("stride") = 1, py::arg("pad") = 0);
  def_op(
      m, "max_pool2d",
      [](V x, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
        return max_pool2d(x, kernel, stride, pad);
      },
      [](const Tensor& x, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
        return max_pool2d_forward(x, window(kernel, kernel, stride, pad), nullptr);
      },
      "The max of each kernel x kernel window of x (N, C, H, W) -> (N, C, OH, OW); the "
      "gradient goes to the window's (first) largest element; padding is never picked.",
      py::arg("x"), py::arg("kernel"), py::arg("stride"), py::arg("pad") = 0);
  def_op(
      m, "avg_pool2d",
      [](V x, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
        return avg_pool2d(x, kernel, stride, pad);
      },
      [](const Tensor& x, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
        return avg_pool2d_forward(x, window(kernel, kernel, stride, pad));
      },
      "The mean of each kernel x kernel window of x (N, C, H, W) (padding counts as 0); the "
      "gradient is spread evenly.",
      py::arg("x"), py::arg("kernel"), py::arg("stride"), py::arg("pad") = 0);
  def_op(
      m, "batch_norm",
      [](V x, V gamma, V beta, double eps) { return batch_norm(x, gamma, beta, eps); },
      [](const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
        return batch_norm_forward(x, gamma, beta, eps, nullptr);
      },
      "Batch normalization with the batch's statistics: per feature of x (N, D) or channel "
      "of x (N, C, H, W), gamma * (x - mean) / sqrt(var + eps) + beta; gamma, beta (D) or (C).",
      py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("eps") = 1e-5);
  def_op(
      m, "dropout", [](V x, double p, Rng& rng) { return dropout(x, p, rng); },
      [](const Tensor& x, double p, Rng& rng) { return dropout_forward(x, p, rng, nullptr); },
      "Inverted dropout: each element dropped with probability p in [0, 1) (one draw from "
      "rng each), the others scaled by 1 / (1 - p).",
      py::arg("x"), py::arg("p"), py::arg("rng"));
  m.def(
      "concat",
      [](const std::vector<Var>& parts, std::int64_t axis) { return concat(parts, axis); },
      py::arg("parts"), py::arg("axis"),
      "Vars of one rank, equal in every axis but axis, joined along it (the gradient is "
      "split back).");
  m.def(
      "gather_rows",
      [](V table, const py::object& ids) {
        return gather_rows(table, to_labels(ids, "gather_rows ids"));
      },
      py::arg("table"), py::arg("ids"),
      "Rows ids (a 1-d sequence of integers in [0, V)) of table (V, d) -> (len(ids), d); the "
      "backward adds each row's gradient into the table row it came from (also nabla.gather).");
  m.attr("gather") = m.attr("gather_rows");
  m.def(
      "binary_logistic_loss",
      [](V scores, const py::object& targets) {
        return binary_logistic_loss(scores, to_labels(targets, "binary_logistic_loss targets"));
      },
      py::arg("scores"), py::arg("targets"),
      "Mean of -t log p - (1 - t) log(1 - p), p = sigmoid(score), over scores (N) or (N, 1) "
      "and targets 0 or 1, stably; backward (sigmoid(s) - t) / N (also nabla.logistic_loss).");
  m.attr("logistic_loss") = m.attr("binary_logistic_loss");
  m.def(
      "jacobian",
      [](const std::function<Var(const Var&)>& f, const py::object& x) {
        return jacobian(f, to_tensor(x));
      },
      py::arg("f"), py::arg("x"),
      "J[i, j] = d f(x)_i / d x_j (numel(f(x)), numel(x)), one backward pass per output "
      "element; f takes a Var and returns a Var built with nabla's ops.");
  m.def(
      "numerical_jacobian",
      [](const std::function<Var(const Var&)>& f, const py::object& x, double h) {
        return numerical_jacobian(f, to_tensor(x), h);
      },
      py::arg("f"), py::arg("x"), py::arg("h") = 1e-6,
      "The same matrix by central differences (use float64 x).");
}

void bind_gradcheck(py::module_& m) {
  py::class_<ParamCheck>(m, "ParamCheck", "One parameter's result in a GradCheckReport.")
      .def_readonly("name", &ParamCheck::name, "The parameter's name.")
      .def_readonly("mean_abs_diff", &ParamCheck::mean_abs_diff, "Mean |backprop - numerical|.")
      .def_readonly("max_abs_diff", &ParamCheck::max_abs_diff, "Largest |backprop - numerical|.")
      .def_readonly("max_rel_error", &ParamCheck::max_rel_error, "Largest relative error.")
      .def("__repr__", [](const ParamCheck& c) {
        return "ParamCheck(" + c.name + ": mean_abs_diff=" + std::to_string(c.mean_abs_diff) +
               ", max_rel_error=" + std::to_string(c.max_rel_error) + ")";
      });
  py::class_<GradCheckReport>(m, "GradCheckReport",
                              "What gradient_check found: params, one ParamCheck each.")
      .def_readonly("params", &GradCheckReport::params, "One ParamCheck per parameter.")
      .def("max_rel_error", &GradCheckReport::max_rel_error,
           "The largest relative error over the parameters.")
      .def("max_mean_abs_diff", &GradCheckReport::max_mean_abs_diff,
           "The largest mean |backprop - numerical| over the parameters.");
  m.def("gradient_check", &gradient_check, py::arg("f"), py::arg("params"), py::arg("h") = 1e-5,
        py::arg("abs_floor") = 1e-6,
        "Builds the graph with f() (a scalar Var), backpropagates, and compares each "
        "parameter's grad with central differences; use float64 parameters.");
}

}  // namespace

void bind_graph(py::module_& m) {
  bind_var(m);
  bind_ops(m);
  bind_image_ops(m);
  bind_gradcheck(m);
}

}  // namespace nabla::python
