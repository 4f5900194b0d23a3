// python/data_bindings.cc — data sets: MNIST from its files, or any labelled pixels
// from NumPy arrays, and feature rows.
//
//   mnist = nabla.load_mnist("data/mnist")      # $NABLA_DATA or data/mnist if None
//   mnist.test.images                            # NumPy uint8 (10000, 784), no copy
//   subset = nabla.Mnist(nabla.Dataset(mnist.train.images[:5000], mnist.train.labels[:5000]),
//                        mnist.test)
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
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
// Labels are stored as bytes (Dataset::labels), so classes is at most 256.
Dataset make_dataset(const py::array& images, const py::handle& labels, std::int64_t classes) {
  if (!images.dtype().is(py::dtype::of<std::uint8_t>())) {
    throw py::type_error("Dataset: images must be uint8 pixels 0..255, got dtype " +
                         py::str(images.dtype()).cast<std::string>());
  }
  if (images.ndim() < 1) throw ValueError("Dataset: images need a first axis (one per sample)");
  if (classes < 1 || classes > 256) {
    throw ValueError("Dataset: classes must be in [1, 256] (labels are stored as bytes), got " +
                     std::to_string(classes));
  }
  auto pixels = py::array_t<std::uint8_t, py::array::c_style>::ensure(images);
  std::vector<std::int64_t> t = to_labels(labels, "Dataset labels");
  Dataset d;
  d.size = pixels.shape(0);
  d.features = 1;  // the product of the other axes
  for (py::ssize_t k = 1; k < pixels.ndim(); ++k) d.features *= pixels.shape(k);
  d.classes = classes;
  if (static_cast<std::int64_t>(t.size()) != d.size) {
    throw ValueError("Dataset: " + std::to_string(d.size) + " images but " +
                     std::to_string(t.size()) + " labels");
  }
  if (d.size > 0 && d.features == 0) throw ValueError("Dataset: images have no pixels");
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

// The two splits, checked against each other: the same pixels per image and classes.
Mnist make_mnist(Dataset train, Dataset test) {
  if (train.features != test.features) {
    throw ValueError("Mnist: train images have " + std::to_string(train.features) +
                     " pixels, test images " + std::to_string(test.features));
  }
  if (train.classes != test.classes) {
    throw ValueError("Mnist: train has " + std::to_string(train.classes) + " classes, test " +
                     std::to_string(test.classes));
  }
  if (train.size == 0) throw ValueError("Mnist: the train split is empty");
  if (test.size == 0) throw ValueError("Mnist: the test split is empty");
  return Mnist{std::move(train), std::move(test)};
}

// Rows x (N, D) of finite numbers as float32, checked against their labels: one per
// row, each in [0, classes). `what` names the argument ("train_x").
Tensor feature_rows(const py::handle& x, const std::vector<std::int64_t>& labels,
                    std::int64_t classes, const std::string& what, const std::string& labels_what) {
  Tensor rows = to_tensor(x, DType::f32);
  if (rows.rank() != 2) {
    throw ValueError("DenseData: " + what + " must be 2-d (rows, features), got shape " +
                     shape_str(rows.shape()));
  }
  if (rows.shape()[0] == 0 || rows.shape()[1] == 0) {
    throw ValueError("DenseData: " + what + " has no rows or no features, shape " +
                     shape_str(rows.shape()));
  }
  if (static_cast<std::int64_t>(labels.size()) != rows.shape()[0]) {
    throw ValueError("DenseData: " + what + " has " + std::to_string(rows.shape()[0]) +
                     " rows but " + labels_what + " has " + std::to_string(labels.size()) +
                     " labels");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw ValueError("DenseData: " + labels_what + "[" + std::to_string(i) +
                       "] = " + std::to_string(labels[i]) + " is not in [0, " +
                       std::to_string(classes) + ")");
    }
  }
  const float* v = rows.data<float>();
  for (std::int64_t i = 0; i < rows.numel(); ++i) {
    if (!std::isfinite(v[i])) {
      throw ValueError("DenseData: " + what + " holds a NaN or infinite value (row " +
                       std::to_string(i / rows.shape()[1]) +
                       ", or a number too large for "
                       "float32)");
    }
  }
  return rows;
}

DenseData make_dense_data(const py::handle& train_x, const py::handle& train_labels,
                          const py::handle& test_x, const py::handle& test_labels,
                          std::int64_t classes) {
  if (classes < 1) {
    throw ValueError("DenseData: classes must be at least 1, got " + std::to_string(classes));
  }
  DenseData d;
  d.classes = classes;
  d.train_labels = to_labels(train_labels, "DenseData train_labels");
  d.test_labels = to_labels(test_labels, "DenseData test_labels");
  d.train_x = feature_rows(train_x, d.train_labels, classes, "train_x", "train_labels");
  d.test_x = feature_rows(test_x, d.test_labels, classes, "test_x", "test_labels");
  if (d.test_x.shape()[1] != d.train_x.shape()[1]) {
    throw ValueError("DenseData: test_x has " + std::to_string(d.test_x.shape()[1]) +
                     " features, train_x " + std::to_string(d.train_x.shape()[1]));
  }
  return d;
}

// A regression's targets (N) or (N, K), finite, as float32 (N, K); `what` names them.
Tensor target_rows(const py::handle& y, const std::string& what) {
  Tensor t = to_tensor(y, DType::f32);
  if (t.rank() == 1) t = std::move(t).reshape({t.size(0), 1});
  if (t.rank() != 2 || t.size(0) == 0 || t.size(1) == 0) {
    throw ValueError("DenseData.regression: " + what +
                     " must be a number per row (N) or (N, outputs), got shape " +
                     shape_str(t.shape()));
  }
  const float* v = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (!std::isfinite(v[i])) {
      throw ValueError("DenseData.regression: " + what + " holds a NaN or infinite value (row " +
                       std::to_string(i / t.size(1)) + ")");
    }
  }
  return t;
}

// Rows and real-valued targets: a regression's DenseData (classes: the outputs).
DenseData make_regression_data(const py::handle& train_x, const py::handle& train_y,
                               const py::handle& test_x, const py::handle& test_y) {
  DenseData d;
  d.train_targets = target_rows(train_y, "train_y");
  d.test_targets = target_rows(test_y, "test_y");
  if (d.test_targets.size(1) != d.train_targets.size(1)) {
    throw ValueError("DenseData.regression: test_y has " + std::to_string(d.test_targets.size(1)) +
                     " outputs, train_y " + std::to_string(d.train_targets.size(1)));
  }
  d.classes = d.train_targets.size(1);
  // (the rows checked as a classifier's, against as many labels as targets)
  const std::vector<std::int64_t> train_rows(static_cast<std::size_t>(d.train_targets.size(0)));
  const std::vector<std::int64_t> test_rows(static_cast<std::size_t>(d.test_targets.size(0)));
  d.train_x = feature_rows(train_x, train_rows, d.classes, "train_x", "train_y");
  d.test_x = feature_rows(test_x, test_rows, d.classes, "test_x", "test_y");
  if (d.test_x.shape()[1] != d.train_x.shape()[1]) {
    throw ValueError("DenseData: test_x has " + std::to_string(d.test_x.shape()[1]) +
                     " features, train_x " + std::to_string(d.train_x.shape()[1]));
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
      .def_readonly("size", &Dataset::size, "The number of samples.")
      .def_readonly("features", &Dataset::features, "Values in one sample.")
      .def_readonly("classes", &Dataset::classes, "The number of classes.")
      .def_property_readonly(
          "images",
          [](const py::object& self) {
            const auto& d = self.cast<const Dataset&>();
            return byte_view(d.images, {d.size, d.features}, self);
          },
          "The pixels, uint8 (size, features): a view, no copy.")
      .def_property_readonly(
          "labels",
          [](const py::object& self) {
            const auto& d = self.cast<const Dataset&>();
            return byte_view(d.labels, {d.size}, self);
          },
          "The labels, uint8 (size): a view, no copy.")
      .def(
          "batch",
          [](const Dataset& d, const py::object& indices, DType dtype) {
            Tensor x = Tensor::empty({0}, dtype);
            std::vector<std::int64_t> t;
            gather_batch(d, to_labels(indices, "Dataset.batch indices"), x, t);
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
      .def(py::init(&make_mnist), py::arg("train"), py::arg("test"))
      .def_readonly("train", &Mnist::train, "The training split (a Dataset).")
      .def_readonly("test", &Mnist::test, "The test split (a Dataset).");
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
      .def(py::init(&make_dense_data), py::arg("train_x"), py::arg("train_labels"),
           py::arg("test_x"), py::arg("test_labels"), py::arg("classes"))
      .def_readonly("train_x", &DenseData::train_x, "The training rows (a Tensor).")
      .def_readonly("test_x", &DenseData::test_x, "The test rows (a Tensor).")
      .def_readonly("train_labels", &DenseData::train_labels, "The training labels.")
      .def_readonly("test_labels", &DenseData::test_labels, "The test labels.")
      .def_readonly("classes", &DenseData::classes,
                    "The number of classes (a regression's outputs).")
      .def_static("regression", &make_regression_data, py::arg("train_x"), py::arg("train_y"),
                  py::arg("test_x"), py::arg("test_y"), R"(
A regression's rows: real-valued targets train_y, test_y (N) or (N, outputs) instead of
labels. Trained with the mse loss (ModelSpec loss='mse', e.g. model_preset('linear',
[features], 1)); evaluations report the RMSE (lower is better).)")
      .def_property_readonly("is_regression", &DenseData::regression,
                             "Whether the rows have real-valued targets (a regression's).")
      .def_property_readonly(
          "train_targets",
          [](const DenseData& d) -> std::optional<Tensor> {
            if (!d.regression()) return std::nullopt;
            return d.train_targets;
          },
          "A regression's training targets (N, outputs), or None for labelled rows.")
      .def_property_readonly(
          "test_targets",
          [](const DenseData& d) -> std::optional<Tensor> {
            if (!d.regression()) return std::nullopt;
            return d.test_targets;
          },
          "A regression's test targets (N, outputs), or None for labelled rows.");

  py::enum_<Sampling>(
      m, "Sampling", "How batches are drawn: with_replacement (the textbook's) or shuffled_epochs.")
      .value("with_replacement", Sampling::with_replacement)
      .value("shuffled_epochs", Sampling::shuffled_epochs);
}

}  // namespace nabla::python
