// python/train_bindings.cc — data sets, optimizers, the model spec, the Trainer, and
// models saved and loaded: the textbook's training recipe at nabla's speed.
//
//   t = nabla.Trainer(nabla.TrainConfig(iters=2000), nabla.load_mnist("data/mnist"))
//   while not t.done():
//       loss = t.step()              # the GIL is released while nabla works
//       if t.eval_due():
//           print(t.evaluate())
//   t.save("model.safetensors")
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings.h"
#include "nabla/mnist.h"
#include "nabla/optim.h"
#include "nabla/safetensors.h"
#include "nabla/train.h"

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
}

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
  py::enum_<Sampling>(m, "Sampling")
      .value("with_replacement", Sampling::with_replacement)
      .value("shuffled_epochs", Sampling::shuffled_epochs);
}

void bind_config(py::module_& m) {
  const ModelSpec spec_defaults;
  py::class_<ModelSpec>(m, "ModelSpec", "The architecture of a model (stored in its file).")
      .def(py::init([](std::string kind, std::int64_t inputs, std::int64_t classes,
                       std::vector<std::int64_t> hidden, std::string activation, std::string loss,
                       Init init, double init_std) {
             return ModelSpec{std::move(kind),       inputs,          classes, std::move(hidden),
                              std::move(activation), std::move(loss), init,    init_std};
           }),
           py::arg("kind") = spec_defaults.kind, py::arg("inputs") = spec_defaults.inputs,
           py::arg("classes") = spec_defaults.classes, py::arg("hidden") = spec_defaults.hidden,
           py::arg("activation") = spec_defaults.activation, py::arg("loss") = spec_defaults.loss,
           py::arg("init") = spec_defaults.init, py::arg("init_std") = spec_defaults.init_std,
           "kind: two-layer-net | mlp | linear; activation: relu | sigmoid | tanh; "
           "loss: softmax | svm.")
      .def_readwrite("kind", &ModelSpec::kind)
      .def_readwrite("inputs", &ModelSpec::inputs)
      .def_readwrite("classes", &ModelSpec::classes)
      .def_readwrite("hidden", &ModelSpec::hidden)
      .def_readwrite("activation", &ModelSpec::activation)
      .def_readwrite("loss", &ModelSpec::loss)
      .def_readwrite("init", &ModelSpec::init)
      .def_readwrite("init_std", &ModelSpec::init_std)
      .def("check", &ModelSpec::check)
      .def("describe", &ModelSpec::describe)
      .def("parameter_shapes", &ModelSpec::parameter_shapes)
      .def("to_json", &ModelSpec::to_json)
      .def_static("from_json", &ModelSpec::from_json, py::arg("json"))
      .def("__repr__", [](const ModelSpec& s) { return "ModelSpec(" + s.describe() + ")"; });
  m.def(
      "build_model",
      [](const ModelSpec& spec, Rng* rng, DType dtype) {
        Rng fresh;
        return build_model(spec, rng ? *rng : fresh, dtype);
      },
      py::arg("spec"), py::arg("rng") = nullptr, py::arg("dtype") = DType::f32);

  const TrainConfig config_defaults;
  py::class_<TrainConfig>(m, "TrainConfig", "What to train and how (nabla train's options).")
      .def(py::init([](ModelSpec model, std::int64_t iters, std::int64_t epochs, std::int64_t batch,
                       double lr, std::string optimizer, double weight_decay, double reg,
                       std::uint64_t seed, Sampling sampling) {
             return TrainConfig{std::move(model),     iters,        epochs, batch, lr,
                                std::move(optimizer), weight_decay, reg,    seed,  sampling};
           }),
           py::arg("model") = config_defaults.model, py::arg("iters") = config_defaults.iters,
           py::arg("epochs") = config_defaults.epochs, py::arg("batch") = config_defaults.batch,
           py::arg("lr") = config_defaults.lr, py::arg("optimizer") = config_defaults.optimizer,
           py::arg("weight_decay") = config_defaults.weight_decay,
           py::arg("reg") = config_defaults.reg, py::arg("seed") = config_defaults.seed,
           py::arg("sampling") = config_defaults.sampling)
      .def_readwrite("model", &TrainConfig::model)
      .def_readwrite("iters", &TrainConfig::iters)
      .def_readwrite("epochs", &TrainConfig::epochs)
      .def_readwrite("batch", &TrainConfig::batch)
      .def_readwrite("lr", &TrainConfig::lr)
      .def_readwrite("optimizer", &TrainConfig::optimizer)
      .def_readwrite("weight_decay", &TrainConfig::weight_decay)
      .def_readwrite("reg", &TrainConfig::reg)
      .def_readwrite("seed", &TrainConfig::seed)
      .def_readwrite("sampling", &TrainConfig::sampling)
      .def("to_json", &TrainConfig::to_json)
      .def_static("from_json", &TrainConfig::from_json, py::arg("json"));
}

void bind_trainer(py::module_& m) {
  py::class_<Evaluation>(m, "Evaluation")
      .def_readonly("iteration", &Evaluation::iteration)
      .def_readonly("train_acc", &Evaluation::train_acc)
      .def_readonly("test_acc", &Evaluation::test_acc)
      .def_readonly("seconds", &Evaluation::seconds)
      .def("__repr__", [](const Evaluation& e) {
        return "Evaluation(iteration=" + std::to_string(e.iteration) +
               ", train_acc=" + std::to_string(e.train_acc) +
               ", test_acc=" + std::to_string(e.test_acc) + ")";
      });

  py::class_<Trainer>(m, "Trainer", R"(
Mini-batch training, the textbook's train_neuralnet. Trainer(config, data) with data a
Mnist (kept as sparse pixels, the fast path) or DenseData; each step draws a batch,
backpropagates and updates. step() and evaluate() release the GIL.)")
      .def(py::init([](TrainConfig config, const Mnist& data) {
             py::gil_scoped_release release;
             return Trainer(std::move(config), data);
           }),
           py::arg("config"), py::arg("data"))
      .def(py::init([](TrainConfig config, DenseData data) {
             py::gil_scoped_release release;
             return Trainer(std::move(config), std::move(data));
           }),
           py::arg("config"), py::arg("data"))
      .def_static(
          "resume",
          [](const std::string& checkpoint, const Mnist& data, std::int64_t total_iters) {
            py::gil_scoped_release release;
            return Trainer::resume(checkpoint, data, total_iters);
          },
          py::arg("checkpoint"), py::arg("data"), py::arg("total_iters") = 0,
          "Continues from a file written by save() (total_iters > 0 replaces the plan).")
      .def("step", &Trainer::step, py::call_guard<py::gil_scoped_release>(),
           "One iteration; returns the batch's loss.")
      .def("done", &Trainer::done)
      .def("eval_due", &Trainer::eval_due,
           "True right after iterations 0, per epoch, 2 per epoch, ...")
      .def("evaluate", &Trainer::evaluate, py::call_guard<py::gil_scoped_release>(),
           "Accuracy on the whole training and test sets.")
      .def("set_threads", &Trainer::set_threads, py::arg("threads"))
      .def(
          "save",
          [](const Trainer& t, const std::string& path) {
            py::gil_scoped_release release;
            t.save(path);
          },
          py::arg("path"), "The model and everything needed to resume (load_model reads it).")
      .def_property_readonly("iteration", &Trainer::iteration)
      .def_property("total_iters", &Trainer::total_iters, &Trainer::set_total_iters)
      .def_property_readonly("iters_per_epoch", &Trainer::iters_per_epoch)
      .def_property_readonly(
          "config", [](const Trainer& t) { return TrainConfig(t.config()); }, "A copy.")
      .def_property_readonly("model", &Trainer::model, py::return_value_policy::reference_internal);

  py::class_<LoadedModel>(m, "LoadedModel")
      .def_readonly("spec", &LoadedModel::spec)
      .def_readonly("net", &LoadedModel::net)
      .def_readonly("metadata", &LoadedModel::metadata);
  m.def(
      "load_model",
      [](const std::string& path) {
        py::gil_scoped_release release;
        return load_model(path);
      },
      py::arg("path"), "A model written by Trainer.save: spec, net (a Sequential), metadata.");
  m.def(
      "evaluate_accuracy",
      [](Sequential& net, const Dataset& data) {
        py::gil_scoped_release release;
        return evaluate_accuracy(net, data);
      },
      py::arg("net"), py::arg("data"), "The fraction of data that net classifies correctly.");
  m.def(
      "load_safetensors",
      [](const std::string& path) {
        SafetensorsFile f = load_safetensors(path);
        py::dict tensors;
        for (auto& [name, t] : f.tensors) tensors[py::str(name)] = std::move(t);
        return py::make_tuple(tensors, f.metadata);
      },
      py::arg("path"), "({name: Tensor}, metadata) of a safetensors file.");
}

}  // namespace

void bind_training(py::module_& m) {
  bind_data(m);
  bind_optimizers(m);
  bind_config(m);
  bind_trainer(m);
}

}  // namespace nabla::python
