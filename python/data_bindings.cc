// python/data_bindings.cc — data sets: MNIST from its files, or any labelled pixels
// from NumPy arrays, and feature rows.
//
//   mnist = nabla.load_mnist("data/mnist")      # $NABLA_DATA or data/mnist if None
//   mnist.test.images                            # NumPy uint8 (10000, 784), no copy
//   subset = nabla.Mnist(nabla.Dataset(mnist.train.images[:5000], mnist.train.labels[:5000]),
//                        mnist.test)
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings.h"
#include "nabla/data/mnist.h"
#include "nabla/train/train.h"

namespace nabla::python {
namespace {

// A NumPy view (no copy) of bytes that `owner` keeps alive.
py::array byte_view(const ByteBuffer& bytes, std::vector<py::ssize_t> shape,
                    const py::object& owner) {
  return py::array(py::dtype::of<std::uint8_t>(), std::move(shape), {},
                   const_cast<std::uint8_t*>(bytes.data()), owner);
}

// A Dataset from pixels (N, ...) as uint8 and labels (N) in [0, classes), copied.
Dataset make_dataset(const py::array& images, const py::handle& labels, std::int64_t classes) {
  if (!images.dtype().is(py::dtype::of<std::uint8_t>())) {
    throw ValueError("Dataset: images must be uint8 pixels 0..255, got dtype " +
                     py::str(images.dtype()).cast<std::string>());
  }
  if (images.ndim() < 1) throw ValueError("Dataset: images need a first axis (one per sample)");
  auto pixels = py::array_t<std::uint8_t, py::array::c_style>::ensure(images);
  std::vector<std::int64_t> t = to_labels(labels);
  Dataset d;
  d.size = pixels.shape(0);
  d.features = 1;  // the product of the other axes
  for (py::ssize_t k = 1; k < pixels.ndim(); ++k) d.features *= pixels.shape(k);
  d.classes = classes;
  if (static_cast<std::int64_t>(t.size()) != d.size) {
    throw ValueError("Dataset: " + std::to_string(d.size) + " images but " +
                     std::to_string(t.size()) + " labels");
  }
  d.images.assign(pixels.data(), pixels.data() + pixels.size());
  d.labels.resize(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] < 0 || t[i] >= classes) {
      throw ValueError("Dataset: label " + std::to_string(t[i]) + " at index " + std::to_string(i) +
                       " is not in [0, " + std::to_string(classes) + ")");
    }
    d.labels[i] = static_cast<std::uint8_t>(t[i]);
  }
  return d;
}

}  // namespace

void bind_data(py::module_& m) {
  py::class_<Dataset>(m, "Dataset", R"(
One split: images (size, features) as uint8 pixels 0..255 and labels (size).
Dataset(images, labels, classes=10) copies NumPy arrays (images uint8 (N, ...), labels ints);
.images and .labels are NumPy views (no copy).)")
      .def(py::init(&make_dataset), py::arg("images"), py::arg("labels"), py::arg("classes") = 10)
      .def_readonly("size", &Dataset::size)
      .def_readonly("features", &Dataset::features)
      .def_readonly("classes", &Dataset::classes)
      .def_property_readonly("images",
                             [](const py::object& self) {
                               const auto& d = self.cast<const Dataset&>();
                               return byte_view(d.images, {d.size, d.features}, self);
                             })
      .def_property_readonly("labels",
                             [](const py::object& self) {
                               const auto& d = self.cast<const Dataset&>();
                               return byte_view(d.labels, {d.size}, self);
                             })
      .def(
          "batch",
          [](const Dataset& d, const py::object& indices, DType dtype) {
            Tensor x = Tensor::empty({0}, dtype);
            std::vector<std::int64_t> t;
            gather_batch(d, to_labels(indices), x, t);
            return py::make_tuple(std::move(x), std::move(t));
          },
          py::arg("indices"), py::arg("dtype") = DType::f32,
          "(x, t): the samples' pixels / 255 (B, features) and their labels.")
      .def(
          "images_as_tensor",
          [](const Dataset& d, std::int64_t begin, std::optional<std::int64_t> count, DType dtype) {
            return images_as_tensor(d, begin, count.value_or(d.size - begin), dtype);
          },
          py::arg("begin") = 0, py::arg("count") = py::none(), py::arg("dtype") = DType::f32,
          "Samples [begin, begin + count) as pixels / 255.")
      .def("__repr__", [](const Dataset& d) {
        return "Dataset(size=" + std::to_string(d.size) +
               ", features=" + std::to_string(d.features) + ")";
      });

  py::class_<Mnist>(m, "Mnist", "The training and test splits.")
      .def(py::init([](Dataset train, Dataset test) {
             return Mnist{std::move(train), std::move(test)};
           }),
           py::arg("train"), py::arg("test"))
      .def_readonly("train", &Mnist::train)
      .def_readonly("test", &Mnist::test);
  m.def(
      "data_dir", [](std::optional<std::string> dir) { return resolve_data_dir(dir); },
      py::arg("dir") = py::none(), "dir if given, else $NABLA_DATA if set, else 'data/mnist'.");
  m.def(
      "load_mnist",
      [](std::optional<std::string> dir) {
        std::string path = resolve_data_dir(dir);
        py::gil_scoped_release release;
        return load_mnist(path);
      },
      py::arg("dir") = py::none(),
      "The four MNIST files (plain or .gz) from dir (default: data_dir()).");

  py::class_<DenseData>(m, "DenseData", "Labelled feature rows (not pixels), e.g. from CSV.")
      .def(py::init([](const py::object& train_x, const py::object& train_labels,
                       const py::object& test_x, const py::object& test_labels,
                       std::int64_t classes) {
             return DenseData{to_tensor(train_x, DType::f32), to_tensor(test_x, DType::f32),
                              to_labels(train_labels), to_labels(test_labels), classes};
           }),
           py::arg("train_x"), py::arg("train_labels"), py::arg("test_x"), py::arg("test_labels"),
           py::arg("classes"))
      .def_readonly("train_x", &DenseData::train_x)
      .def_readonly("test_x", &DenseData::test_x)
      .def_readonly("train_labels", &DenseData::train_labels)
      .def_readonly("test_labels", &DenseData::test_labels)
      .def_readonly("classes", &DenseData::classes);

  py::enum_<Sampling>(
      m, "Sampling", "How batches are drawn: with_replacement (the textbook's) or shuffled_epochs.")
      .value("with_replacement", Sampling::with_replacement)
      .value("shuffled_epochs", Sampling::shuffled_epochs);
}

}  // namespace nabla::python
