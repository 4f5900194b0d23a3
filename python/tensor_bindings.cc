// python/tensor_bindings.cc — nabla.Tensor and NumPy.
//
// To NumPy, no copy: a Tensor exports its storage through the buffer protocol, so
// np.asarray(t) (or t.numpy()) is a view of the tensor's elements that keeps the tensor
// alive; writes through either show in the other.
// From NumPy, a copy: nabla.Tensor(a) copies a's elements into nabla's own 64-byte
// aligned storage (a Tensor owns its elements; it cannot adopt memory NumPy allocated).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "bindings.h"
#include "nabla/ops/ops.h"

namespace nabla::python {
namespace {

const char* buffer_format(DType dtype) {
  return dtype == DType::f32 ? "f" : "d";  // the struct module's codes NumPy reads
}

std::vector<py::ssize_t> byte_strides(const Tensor& t) {
  std::vector<py::ssize_t> strides(t.shape().size());
  auto stride = static_cast<py::ssize_t>(dtype_size(t.dtype()));
  for (std::size_t i = strides.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= static_cast<py::ssize_t>(t.shape()[i]);
  }
  return strides;
}

const Tensor& defined(const Tensor& t, const char* what) {
  if (!t.defined()) throw ValueError(std::string(what) + ": the tensor is undefined");
  return t;
}

// The elements of a NumPy array as a Tensor of element type T.
template <class T>
Tensor copy_array(const py::array& array, DType dtype) {
  auto c = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!c) {
    throw py::type_error("nabla.Tensor: cannot convert an array of dtype " +
                         py::str(array.dtype()).cast<std::string>() + " to " + dtype_name(dtype));
  }
  Shape shape(c.shape(), c.shape() + c.ndim());
  Tensor t = Tensor::empty(shape, dtype);
  if (t.numel() > 0) std::memcpy(t.raw(), c.data(), t.nbytes());
  return t;
}

std::string repr(const Tensor& t) {
  if (!t.defined()) return "Tensor(undefined)";
  std::string text = t.numel() <= 64 ? ", " + to_string(t) : "";
  return "Tensor(shape=" + shape_str(t.shape()) + ", dtype=" + dtype_name(t.dtype()) + text + ")";
}

py::dtype numpy_dtype(DType dtype) {
  return dtype == DType::f32 ? py::dtype::of<float>() : py::dtype::of<double>();
}

// The other operand of a Tensor's arithmetic, and the dtype both become, as NumPy
// promotes: float32 with float32 stays float32, anything with float64 is float64.
// Numbers (Python floats and ints) keep the tensor's dtype, as NumPy scalars do.
std::pair<Tensor, Tensor> promoted(const Tensor& a, const py::handle& other) {
  Tensor b = to_tensor(other);
  if (a.dtype() == b.dtype()) return {a, std::move(b)};
  return {a.to(DType::f64), b.to(DType::f64)};
}

template <class Op>
void def_arithmetic(py::class_<Tensor>& tensor, const char* name, const char* reflected, Op op) {
  tensor.def(
      name,
      [op](const Tensor& a, const py::object& b) -> py::object {
        if (py::isinstance<py::float_>(b) || py::isinstance<py::int_>(b)) {
          return py::cast(op(a, Tensor::full({}, b.cast<double>(), a.dtype())));
        }
        auto [x, y] = promoted(a, b);
        return py::cast(op(x, y));
      },
      py::arg("other"));
  tensor.def(
      reflected,
      [op](const Tensor& a, const py::object& b) -> py::object {
        if (py::isinstance<py::float_>(b) || py::isinstance<py::int_>(b)) {
          return py::cast(op(Tensor::full({}, b.cast<double>(), a.dtype()), a));
        }
        auto [x, y] = promoted(a, b);
        return py::cast(op(y, x));
      },
      py::arg("other"));
}

}  // namespace

py::array numpy_view(Tensor& t, const py::handle& owner) {
  defined(t, "numpy view");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  return py::array(numpy_dtype(t.dtype()), shape, byte_strides(t), t.raw(), owner);
}

py::array numpy_copy(const Tensor& t, bool writable) {
  defined(t, "numpy copy");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array a(numpy_dtype(t.dtype()), shape, byte_strides(t), t.raw());  // no owner: a copy
  if (!writable) a.attr("flags").attr("writeable") = false;
  return a;
}

Tensor to_tensor(const py::handle& value, std::optional<DType> dtype) {
  if (py::isinstance<Tensor>(value)) {
    const Tensor& t = value.cast<const Tensor&>();
    return dtype && *dtype != t.dtype() ? t.to(*dtype) : t;
  }
  py::array array = py::array::ensure(value);
  if (!array) {
    throw py::type_error("nabla.Tensor: cannot make an array of a " +
                         py::str(py::type::of(value)).cast<std::string>());
  }
  const char kind = array.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
    // complex would lose its imaginary part; objects, strings, dates are no numbers
    throw py::type_error("nabla.Tensor: cannot convert an array of dtype " +
                         py::str(array.dtype()).cast<std::string>() +
                         " (nabla holds float32 or float64; complex numbers are not supported)");
  }
  DType target = dtype.value_or(array.dtype().is(py::dtype::of<float>()) ? DType::f32 : DType::f64);
  if (target == DType::f32) return copy_array<float>(array, target);
  return copy_array<double>(array, target);
}

const Tensor& as_tensor(const py::handle& value, std::optional<DType> dtype, Tensor& storage) {
  if (py::isinstance<Tensor>(value)) {
    const Tensor& t = value.cast<const Tensor&>();
    if (!dtype || *dtype == t.dtype()) return t;
  }
  storage = to_tensor(value, dtype);
  return storage;
}

std::optional<DType> module_dtype(const Module& module) {
  NamedVars params = module.named_parameters();
  if (params.empty()) return std::nullopt;
  return params.front().second.dtype();
}

std::vector<std::int64_t> to_labels(const py::handle& value, const char* what) {
  py::array array = py::array::ensure(value);
  if (!array) {
    throw py::type_error(std::string(what) + ": expected a sequence of class indices, got a " +
                         py::str(py::type::of(value)).cast<std::string>());
  }
  if (array.ndim() != 1) {
    throw ValueError(std::string(what) + ": expected a 1-d sequence of class indices, got " +
                     std::to_string(array.ndim()) + " dimensions");
  }
  if (array.size() == 0) return {};  // np.asarray([]) is float64: no values to judge
  const char kind = array.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    throw py::type_error(std::string(what) + ": class indices must be integers, got dtype " +
                         py::str(array.dtype()).cast<std::string>());
  }
  auto a = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!a) throw py::type_error(std::string(what) + ": cannot convert to int64");
  if (kind == 'u' && array.itemsize() == 8) {
    // uint64 above INT64_MAX would wrap to a negative index: refuse, as a label too big
    auto u = py::array_t<std::uint64_t, py::array::c_style>::ensure(array);
    for (py::ssize_t i = 0; i < u.size(); ++i) {
      if (u.data()[i] > static_cast<std::uint64_t>(INT64_MAX)) {
        throw ValueError(std::string(what) + ": index " + std::to_string(i) + " is too large");
      }
    }
  }
  return {a.data(), a.data() + a.size()};
}

Tensor to_ids(const py::handle& value, const char* what) {
  if (py::isinstance<Tensor>(value)) {
    const Tensor& t = value.cast<const Tensor&>();
    if (t.dtype() == DType::i64) return t;
  }
  py::array array = py::array::ensure(value);
  if (!array) {
    throw py::type_error(std::string(what) + ": expected an array of integer ids, got a " +
                         py::str(py::type::of(value)).cast<std::string>());
  }
  const char kind = array.dtype().kind();
  if (array.size() > 0 && kind != 'i' && kind != 'u') {
    throw py::type_error(std::string(what) + ": ids must be integers, got dtype " +
                         py::str(array.dtype()).cast<std::string>());
  }
  auto a = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!a) throw py::type_error(std::string(what) + ": cannot convert to int64");
  Shape shape(a.shape(), a.shape() + a.ndim());
  Tensor t = Tensor::empty(shape, DType::i64);
  std::int64_t* out = t.numel() > 0 ? t.data<std::int64_t>() : nullptr;
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (a.data()[i] < 0) {
      throw ValueError(std::string(what) + ": id " + std::to_string(a.data()[i]) + " at position " +
                       std::to_string(i) + " is negative");
    }
    out[i] = a.data()[i];
  }
  return t;
}

std::vector<std::int64_t> to_class_indices(const py::handle& value, const char* what) {
  py::array array = py::array::ensure(value);
  if (array && array.ndim() == 2) {
    return to_labels(array.attr("argmax")(py::arg("axis") = 1), what);
  }
  return to_labels(value, what);
}

Targets to_targets(const py::handle& value, std::optional<DType> dtype) {
  if (py::isinstance<Tensor>(value)) return Targets(to_tensor(value, dtype));
  if (py::isinstance<py::array>(value)) {
    auto a = py::reinterpret_borrow<py::array>(value);
    if (a.ndim() == 2 && a.dtype().kind() == 'f') return Targets(to_tensor(value, dtype));
  }
  return Targets(to_labels(value, "targets"));
}

void bind_tensor(py::module_& m) {
  py::enum_<DType>(m, "DType", "Element type: f32 (float32) or f64 (float64).")
      .value("f32", DType::f32)
      .value("f64", DType::f64)
      .export_values();

  py::class_<Rng>(m, "Rng", "A random number generator (mt19937_64), always passed explicitly.")
      .def(py::init<std::uint64_t>(), py::arg("seed") = 42)
      .def("normal", &Rng::normal, "A draw from N(0, 1).")
      .def("uniform", &Rng::uniform, "A draw from U[0, 1).")
      .def("below", &Rng::below, py::arg("n"), "A uniform integer in [0, n).")
      .def("state", &Rng::state, "The generator's state (restore() returns to it).")
      .def("restore", &Rng::restore, py::arg("state"), "Returns to a state() taken earlier.");

  py::class_<Tensor> tensor(m, "Tensor", py::buffer_protocol(), R"(
An N-dimensional, row-major, contiguous array of float32 or float64.

Tensor(data, dtype=None) copies data (a NumPy array, a list, a number or a Tensor): float32
stays float32, anything else becomes float64 unless dtype is given. np.asarray(t) and
t.numpy() are views of the tensor (no copy) that keep it alive.)");
  tensor
      .def(py::init([](const py::object& data, std::optional<DType> dtype) {
             return to_tensor(data, dtype);
           }),
           py::arg("data"), py::arg("dtype") = py::none())
      .def_buffer([](Tensor& t) {
        defined(t, "Tensor buffer");
        return py::buffer_info(t.raw(), static_cast<py::ssize_t>(dtype_size(t.dtype())),
                               buffer_format(t.dtype()), t.rank(),
                               std::vector<py::ssize_t>(t.shape().begin(), t.shape().end()),
                               byte_strides(t));
      })
      .def(
          "numpy", [](const py::object& self) { return numpy_view(self.cast<Tensor&>(), self); },
          "A NumPy view of the elements (no copy); it keeps the tensor alive.")
      .def_property_readonly(
          "shape",
          [](const Tensor& t) {
            py::tuple shape(t.shape().size());
            for (std::size_t i = 0; i < t.shape().size(); ++i) {
              shape[i] = t.shape()[i];
            }
            return shape;
          },
          "The shape, a tuple.")
      .def_property_readonly("dtype", &Tensor::dtype, "f32 or f64.")
      .def_property_readonly("ndim", &Tensor::rank, "The number of axes.")
      .def("numel", &Tensor::numel, "The number of elements.")
      .def("__len__",
           [](const Tensor& t) {
             if (t.rank() == 0) throw py::type_error("len() of a 0-d tensor");
             return t.shape()[0];
           })
      .def("item", &Tensor::item, "The value of a one-element tensor as a Python float.")
      .def(
          "tolist",
          [](const py::object& self) {
            return numpy_view(self.cast<Tensor&>(), self).attr("tolist")();
          },
          "The elements as nested lists of floats, as NumPy's tolist (a float for 0-d).")
      .def(
          "__getitem__",
          [](const py::object& self, const py::object& key) {
            py::array view = numpy_view(self.cast<Tensor&>(), self);
            py::object item = view[key];  // while the view lives
            return item;
          },
          py::arg("key"),
          "NumPy indexing: t[0], t[:, 1:3], t[mask] (a NumPy view where NumPy gives one).")
      .def(
          "__setitem__",
          [](const py::object& self, const py::object& key, const py::object& value) {
            py::array view = numpy_view(self.cast<Tensor&>(), self);
            view[key] = value;
          },
          py::arg("key"), py::arg("value"), "Writes elements in place, as NumPy does.")
      .def(
          "__dlpack__",
          [](const py::object& self, const py::object& stream) {
            // NumPy's capsule of a view: it keeps the view, and so the tensor, alive
            return numpy_view(self.cast<Tensor&>(), self)
                .attr("__dlpack__")(py::arg("stream") = stream);
          },
          py::arg("stream") = py::none(),
          "A DLPack capsule of the elements (no copy): torch.from_dlpack(t) and "
          "np.from_dlpack(t) share the tensor's memory.")
      .def_static(
          "__dlpack_device__", []() { return py::make_tuple(1, 0); },
          "(kDLCPU, 0): the elements are in the CPU's memory.")
      .def(
          "__array__",
          [](const py::object& self, const py::object& dtype) -> py::object {
            py::array view = numpy_view(self.cast<Tensor&>(), self);
            if (dtype.is_none()) return py::object(std::move(view));
            return view.attr("astype")(dtype);
          },
          py::arg("dtype") = py::none(), "np.asarray(t): a view of the elements.")
      .def(
          "reshape", [](const Tensor& t, const Shape& shape) { return t.reshape(shape); },
          py::arg("shape"), "The same elements in another shape of the same count.")
      .def("to", &Tensor::to, py::arg("dtype"), "A copy converted to another dtype.")
      .def(
          "copy", [](const Tensor& t) { return Tensor(t); }, "A new tensor with the same elements.")
      .def("fill", &Tensor::fill, py::arg("value"), "Sets every element to value, in place.")
      .def("__repr__", &repr)
      .def("__str__", [](const Tensor& t) { return to_string(defined(t, "str")); })
      .def("__neg__", [](const Tensor& a) { return neg(a); });
  // Arithmetic (no graph), broadcasting and promoting dtypes as NumPy does.
  def_arithmetic(tensor, "__add__", "__radd__",
                 [](const Tensor& a, const Tensor& b) { return add(a, b); });
  def_arithmetic(tensor, "__sub__", "__rsub__",
                 [](const Tensor& a, const Tensor& b) { return sub(a, b); });
  def_arithmetic(tensor, "__mul__", "__rmul__",
                 [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  def_arithmetic(tensor, "__truediv__", "__rtruediv__",
                 [](const Tensor& a, const Tensor& b) { return div(a, b); });
  def_arithmetic(tensor, "__matmul__", "__rmatmul__",
                 [](const Tensor& a, const Tensor& b) { return matmul(a, b); });
  py::implicitly_convertible<py::array, Tensor>();

  m.def(
      "from_dlpack",
      [](const py::object& other) {
        py::object array = py::module_::import("numpy").attr("from_dlpack")(other);
        return to_tensor(array);
      },
      py::arg("other"),
      "A Tensor of another library's array through DLPack (a copy: a Tensor owns its "
      "64-byte aligned storage).");
  m.def(
      "tensor",
      [](const py::object& data, std::optional<DType> dtype) { return to_tensor(data, dtype); },
      py::arg("data"), py::arg("dtype") = py::none(), "Tensor(data, dtype): a copy of data.");
  m.def("zeros", &Tensor::zeros, py::arg("shape"), py::arg("dtype") = DType::f32,
        "A tensor of zeros.");
  m.def("ones", &Tensor::ones, py::arg("shape"), py::arg("dtype") = DType::f32,
        "A tensor of ones.");
  m.def("full", &Tensor::full, py::arg("shape"), py::arg("value"), py::arg("dtype") = DType::f32,
        "A tensor of one value.");
  m.def("scalar", &Tensor::scalar, py::arg("value"), py::arg("dtype") = DType::f64,
        "A 0-d tensor.");
  m.def("randn", &Tensor::randn, py::arg("shape"), py::arg("rng"), py::arg("stddev") = 1.0,
        py::arg("dtype") = DType::f32, "Normal N(0, stddev^2) elements.");
  m.def("uniform", &Tensor::uniform, py::arg("shape"), py::arg("rng"), py::arg("low"),
        py::arg("high"), py::arg("dtype") = DType::f32, "Uniform elements in [low, high).");
}

}  // namespace nabla::python
