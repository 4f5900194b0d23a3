// python/train_bindings.cc — the model spec, the training configuration, the Trainer, and
// models saved and loaded: the textbook's training recipe at nabla's speed.
//
//   t = nabla.Trainer(nabla.TrainConfig(iters=2000), nabla.load_mnist("data/mnist"))
//   while not t.done():
//       loss = t.step()              # the GIL is released while nabla works
//       if t.eval_due():
//           print(t.evaluate())
//   t.save("model.safetensors")
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings.h"
#include "nabla/core/safetensors.h"
#include "nabla/train/run.h"
#include "nabla/train/train.h"

namespace nabla::python {
namespace {

// The networks of the presets, made as build_model makes them (docs/python.md).
Sequential built(const ModelSpec& spec, Rng* rng, DType dtype) {
  Rng fresh;
  return build_model(spec, rng ? *rng : fresh, dtype);
}

void bind_model_builders(py::module_& m) {
  m.def(
      "make_simple_convnet",
      [](const Shape& input_dim, std::int64_t output_size, Rng* rng, DType dtype) {
        return built(model_preset("simple-convnet", input_dim, output_size), rng, dtype);
      },
      py::arg("input_dim") = Shape{1, 28, 28}, py::arg("output_size") = 10,
      py::arg("rng") = nullptr, py::arg("dtype") = DType::f32, R"(
The textbook's SimpleConvNet as a Sequential: conv 30 filters 5x5 -> relu -> maxpool 2 ->
affine 100 -> relu -> affine output_size, softmax loss; weights 0.01 N(0, 1). Parameters
W1 (30, C, 5, 5), b1, W2, b2, W3, b3. model_preset('simple-convnet', ...) is its spec.)");
  m.def(
      "make_deep_convnet",
      [](const Shape& input_dim, std::int64_t output_size, Rng* rng, DType dtype) {
        return built(model_preset("deep-convnet", input_dim, output_size), rng, dtype);
      },
      py::arg("input_dim") = Shape{1, 28, 28}, py::arg("output_size") = 10,
      py::arg("rng") = nullptr, py::arg("dtype") = DType::f32, R"(
The textbook's DeepConvNet as a Sequential: six 3x3 convolutions (16, 16, 32, 32, 64, 64
filters) with relu, a max-pool after each pair, affine 50, relu, dropout 0.5, affine,
dropout 0.5; He initialisation. model_preset('deep-convnet', ...) is its spec.)");
  m.def(
      "linear_classifier_spec",
      [](std::int64_t inputs, std::int64_t classes, const std::string& loss, double init_std) {
        ModelSpec spec = model_preset("linear", {inputs}, classes);
        spec.loss = loss;
        spec.init_std = init_std;
        spec.check();
        return spec;
      },
      py::arg("inputs"), py::arg("classes"), py::arg("loss") = "softmax",
      py::arg("init_std") = 0.01, R"(
The spec of a linear classifier, scores = x.W + b, with the multiclass SVM (hinge) loss
(loss='svm') or the softmax cross-entropy (loss='softmax'): TrainConfig(model=spec) trains
it with the Trainer (reg= adds CS231n's L2 penalty).)");
  m.def(
      "make_linear_classifier",
      [](std::int64_t inputs, std::int64_t classes, const std::string& loss, double init_std,
         Rng* rng, DType dtype) {
        ModelSpec spec = model_preset("linear", {inputs}, classes);
        spec.loss = loss;
        spec.init_std = init_std;
        return built(spec, rng, dtype);
      },
      py::arg("inputs"), py::arg("classes"), py::arg("loss") = "softmax",
      py::arg("init_std") = 0.01, py::arg("rng") = nullptr, py::arg("dtype") = DType::f32, R"(
A linear classifier as a Sequential (one affine layer, W1 (inputs, classes), b1) with the
SVM loss (loss='svm', margin 1) or softmax cross-entropy ('softmax'): predict, loss,
gradient, accuracy as any Sequential.)");
}

void bind_config(py::module_& m) {
  const ModelSpec spec_defaults;
  py::class_<ModelSpec>(m, "ModelSpec", "The architecture of a model (stored in its file).")
      .def(py::init([](std::string kind, std::int64_t inputs, std::int64_t classes,
                       std::vector<std::int64_t> hidden, std::string activation, std::string loss,
                       Init init, double init_std) {
             ModelSpec spec;
             spec.kind = std::move(kind);
             spec.inputs = inputs;
             spec.classes = classes;
             spec.hidden = std::move(hidden);
             spec.activation = std::move(activation);
             spec.loss = std::move(loss);
             spec.init = init;
             spec.init_std = init_std;
             return spec;
           }),
           py::arg("kind") = spec_defaults.kind, py::arg("inputs") = spec_defaults.inputs,
           py::arg("classes") = spec_defaults.classes, py::arg("hidden") = spec_defaults.hidden,
           py::arg("activation") = spec_defaults.activation, py::arg("loss") = spec_defaults.loss,
           py::arg("init") = spec_defaults.init, py::arg("init_std") = spec_defaults.init_std,
           "An MLP preset (kind: two-layer-net | mlp | linear; activation: relu | sigmoid | "
           "tanh; loss: softmax | svm); model_preset and model_from_arch make the others.")
      .def_readwrite("kind", &ModelSpec::kind,
                     "two-layer-net, mlp, linear, simple-convnet, deep-convnet, arch, ...")
      .def_readwrite("inputs", &ModelSpec::inputs, "Values in one example.")
      .def_readwrite("classes", &ModelSpec::classes, "Output classes.")
      .def_readwrite("hidden", &ModelSpec::hidden, "Hidden layer sizes (the MLP presets).")
      .def_readwrite("activation", &ModelSpec::activation,
                     "relu, sigmoid or tanh (the MLP presets).")
      .def_readwrite("input_shape", &ModelSpec::input_shape,
                     "One example's shape (layer lists), e.g. [1, 28, 28].")
      .def_readwrite("loss", &ModelSpec::loss,
                     "softmax or svm; mse for a regression (one output per target).")
      .def_readwrite("init", &ModelSpec::init, "The weight initialisation (Init).")
      .def_readwrite("init_std", &ModelSpec::init_std, "The standard deviation of Init.normal.")
      .def("check", &ModelSpec::check,
           "ValueError naming what is wrong: an unknown kind or layer, a size out of bounds.")
      .def("describe", &ModelSpec::describe,
           "One line: 'two-layer-net 784-50-10 relu, softmax loss'.")
      .def("example_shape", &ModelSpec::example_shape,
           "The shape of one example, e.g. [1, 28, 28].")
      .def(
          "arch", [](const ModelSpec& s) { return arch_string(s.layer_list()); },
          "The layers as an --arch string.")
      .def("parameter_shapes", &ModelSpec::parameter_shapes,
           "[(name, shape)] of the parameters build_model makes, in order.")
      .def("to_json", &ModelSpec::to_json, "The spec as JSON (as model files keep it).")
      .def_static("from_json", &ModelSpec::from_json, py::arg("json"))
      .def("__repr__", [](const ModelSpec& s) { return "ModelSpec(" + s.describe() + ")"; });
  m.def("model_preset", &model_preset, py::arg("kind"), py::arg("input_shape"), py::arg("classes"),
        "two-layer-net, mlp, linear, simple-convnet or deep-convnet for examples of this shape.");
  m.def("model_from_arch", &model_from_arch, py::arg("arch"), py::arg("input_shape"),
        py::arg("classes"),
        "A model from an --arch string, e.g. 'conv:30x5 relu maxpool:2 affine:100 relu "
        "affine:10' on input_shape [1, 28, 28].");
  m.def(
      "build_model",
      [](const ModelSpec& spec, Rng* rng, DType dtype) {
        Rng fresh;
        return build_model(spec, rng ? *rng : fresh, dtype);
      },
      py::arg("spec"), py::arg("rng") = nullptr, py::arg("dtype") = DType::f32,
      "The Sequential a spec describes, weights drawn from rng (Rng(42) if None).");
  bind_model_builders(m);

  const TrainConfig config_defaults;
  py::class_<TrainConfig>(m, "TrainConfig", "What to train and how (nabla train's options).")
      .def(py::init([](ModelSpec model, std::int64_t iters, std::int64_t epochs, std::int64_t batch,
                       double lr, std::string optimizer, double weight_decay, double reg,
                       std::uint64_t seed, Sampling sampling, double validation,
                       std::string lr_schedule, std::int64_t warmup, double clip_norm,
                       std::string augment, std::int64_t shards) {
             TrainConfig c;
             c.model = std::move(model);
             c.iters = iters;
             c.epochs = epochs;
             c.batch = batch;
             c.lr = lr;
             c.optimizer = std::move(optimizer);
             c.weight_decay = weight_decay;
             c.reg = reg;
             c.seed = seed;
             c.sampling = sampling;
             c.validation = validation;
             c.lr_schedule = std::move(lr_schedule);
             c.warmup = warmup;
             c.clip_norm = clip_norm;
             c.augment = std::move(augment);
             c.shards = shards;
             return c;
           }),
           py::arg("model") = config_defaults.model, py::arg("iters") = config_defaults.iters,
           py::arg("epochs") = config_defaults.epochs, py::arg("batch") = config_defaults.batch,
           py::arg("lr") = config_defaults.lr, py::arg("optimizer") = config_defaults.optimizer,
           py::arg("weight_decay") = config_defaults.weight_decay,
           py::arg("reg") = config_defaults.reg, py::arg("seed") = config_defaults.seed,
           py::arg("sampling") = config_defaults.sampling,
           py::arg("validation") = config_defaults.validation,
           py::arg("lr_schedule") = config_defaults.lr_schedule,
           py::arg("warmup") = config_defaults.warmup,
           py::arg("clip_norm") = config_defaults.clip_norm,
           py::arg("augment") = config_defaults.augment, py::arg("shards") = config_defaults.shards)
      .def_readwrite("model", &TrainConfig::model, "The ModelSpec to train.")
      .def_readwrite("iters", &TrainConfig::iters, "Iterations (steps).")
      .def_readwrite("epochs", &TrainConfig::epochs,
                     "If > 0, iters = epochs * iterations per epoch.")
      .def_readwrite("batch", &TrainConfig::batch, "Examples per step.")
      .def_readwrite("lr", &TrainConfig::lr, "The learning rate.")
      .def_readwrite("optimizer", &TrainConfig::optimizer,
                     "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.")
      .def_readwrite("weight_decay", &TrainConfig::weight_decay,
                     "The textbook's weight_decay_lambda (AdamW's decay with adamw).")
      .def_readwrite("reg", &TrainConfig::reg,
                     "CS231n's L2 penalty lambda (loss + lambda sum W^2).")
      .def_readwrite("seed", &TrainConfig::seed, "The seed of every random draw.")
      .def_readwrite("sampling", &TrainConfig::sampling, "How batches are drawn (Sampling).")
      .def_readwrite("validation", &TrainConfig::validation,
                     "The fraction of the training examples held out as the validation split "
                     "(drawn with seed; 0: none). Trainer(config, Mnist or DenseData) holds it "
                     "out; evaluations report its metric, run_training keeps the best model "
                     "by it and stops early on it.")
      .def_readwrite("lr_schedule", &TrainConfig::lr_schedule,
                     "The learning rate's schedule (constant, cosine, step:EPOCHS:FACTOR or "
                     "plateau:PATIENCE:FACTOR, by the validation metric under run_training).")
      .def_readwrite("warmup", &TrainConfig::warmup,
                     "Iterations of linear warm-up of the learning rate (0: none).")
      .def_readwrite("clip_norm", &TrainConfig::clip_norm,
                     "When > 0, the whole gradient is scaled down to this L2 norm when longer.")
      .def_readwrite("augment", &TrainConfig::augment,
                     "'' (no augmentation of the training images) or 'shift:N', each image "
                     "moved by up to N pixels each way (CNNs, and MLPs on MNIST).")
      .def_readwrite("shards", &TrainConfig::shards,
                     "Slices each batch is cut into, their gradients computed apart and added "
                     "(data parallelism in one process; the bits of as many MPI ranks).")
      .def("to_json", &TrainConfig::to_json, "The configuration as JSON.")
      .def_static("from_json", &TrainConfig::from_json, py::arg("json"));
}

void bind_trainer(py::module_& m) {
  py::class_<TrainingData, std::shared_ptr<TrainingData>>(m, "TrainingData", R"(
What a Trainer trains on: a training and a test split (and perhaps a validation split),
handed out batch by batch, with the metric evaluations report (accuracy; NER: entity F1).
nabla.training_data(DenseData or Mnist) and nabla.ner_training_data make one.)")
      .def(
          "size",
          [](const TrainingData& d, const std::string& split) {
            if (split == "train") return d.size(Split::train);
            if (split == "validation") return d.size(Split::validation);
            if (split == "test") return d.size(Split::test);
            throw ValueError("TrainingData.size: split must be train, validation or test, got '" +
                             split + "'");
          },
          py::arg("split") = "train", "Examples in a split: 'train', 'validation' or 'test'.")
      .def_property_readonly("features", &TrainingData::features, "Values in one example.")
      .def_property_readonly("classes", &TrainingData::classes, "The number of classes.")
      .def_property_readonly("metric", &TrainingData::metric,
                             "What evaluations measure ('accuracy', 'entity F1').");
  m.def(
      "training_data", [](DenseData data) { return dense_training_data(std::move(data)); },
      py::arg("data"), "DenseData as a Trainer's TrainingData (rows, dense batches).");
  m.def(
      "training_data",
      [](const Mnist& data) { return mnist_training_data(SparseMnist::from(data)); },
      py::arg("data"), "MNIST as a Trainer's TrainingData (sparse pixel rows or images).");

  py::class_<Evaluation>(m, "Evaluation", "Accuracy on the training and test sets at an iteration.")
      .def_readonly("iteration", &Evaluation::iteration, "Iterations done when evaluated.")
      .def_readonly("train_acc", &Evaluation::train_acc, "The metric on the training set.")
      .def_readonly("test_acc", &Evaluation::test_acc, "The metric on the test set.")
      .def_readonly("validation_acc", &Evaluation::validation_acc,
                    "The metric on the validation split (None when the data has none).")
      .def_readonly("seconds", &Evaluation::seconds, "How long the evaluation took.")
      .def("__repr__", [](const Evaluation& e) {
        return "Evaluation(iteration=" + std::to_string(e.iteration) +
               ", train_acc=" + std::to_string(e.train_acc) +
               (e.validation_acc ? ", validation_acc=" + std::to_string(*e.validation_acc) : "") +
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
      .def(py::init(
               [](TrainConfig config, std::shared_ptr<TrainingData> data, const Sequential& net) {
                 Sequential shared = net;  // shares the layers: training updates net
                 py::gil_scoped_release release;
                 return Trainer(std::move(config), std::move(data), std::move(shared));
               }),
           py::arg("config"), py::arg("data"), py::arg("net"), R"(
Trains net, a network of config.model (its parameters named and shaped as the spec's,
else ValueError): a NER tagger's net, a network with pretrained weights, or a Sequential
subclass written in Python (its Python layers may have no parameters the spec lacks). net is
shared, not copied: training updates it.)")
      .def_static(
          "resume",
          [](const std::string& checkpoint, const Mnist& data, std::int64_t total_iters) {
            py::gil_scoped_release release;
            return Trainer::resume(checkpoint, data, total_iters);
          },
          py::arg("checkpoint"), py::arg("data"), py::arg("total_iters") = 0,
          "Continues from a file written by save() (total_iters > 0 replaces the plan).")
      .def_static(
          "resume",
          [](const std::string& checkpoint, DenseData data, std::int64_t total_iters) {
            py::gil_scoped_release release;
            return Trainer::resume(checkpoint, std::move(data), total_iters);
          },
          py::arg("checkpoint"), py::arg("data"), py::arg("total_iters") = 0,
          "The same with DenseData (the data the run had: its rows, its validation split).")
      .def_static(
          "resume",
          [](const std::string& checkpoint, std::shared_ptr<TrainingData> data,
             std::int64_t total_iters) {
            py::gil_scoped_release release;
            return Trainer::resume(checkpoint, std::move(data), total_iters);
          },
          py::arg("checkpoint"), py::arg("data"), py::arg("total_iters") = 0,
          "The same with prepared TrainingData (a NER corpus's, a sharded one's).")
      .def("step", &Trainer::step, py::call_guard<py::gil_scoped_release>(),
           "One iteration; returns the batch's loss.")
      .def("done", &Trainer::done, "Whether every planned iteration has run.")
      .def("eval_due", &Trainer::eval_due,
           "True right after iterations 0, per epoch, 2 per epoch, ...")
      .def("evaluate", &Trainer::evaluate, py::call_guard<py::gil_scoped_release>(),
           "Accuracy on the whole training and test sets.")
      .def(
          "set_threads",
          [](Trainer& t, int threads) {
            t.set_threads(checked_threads(threads, "Trainer.set_threads"));
          },
          py::arg("threads"), "Threads for the steps and the batches made ahead, in [1, 64].")
      .def(
          "save",
          [](const Trainer& t, const std::string& path) {
            py::gil_scoped_release release;
            t.save(path);
          },
          py::arg("path"), "The model and everything needed to resume (load_model reads it).")
      .def_property_readonly("iteration", &Trainer::iteration, "Iterations done.")
      .def_property("total_iters", &Trainer::total_iters, &Trainer::set_total_iters,
                    "The planned iterations (settable).")
      .def_property_readonly("iters_per_epoch", &Trainer::iters_per_epoch,
                             "Iterations in one pass over the training set.")
      .def_property_readonly(
          "config", [](const Trainer& t) { return TrainConfig(t.config()); }, "A copy.")
      .def_property_readonly("model", &Trainer::model, py::return_value_policy::reference_internal,
                             "The network being trained (a Sequential).");

  py::class_<RunResult>(m, "RunResult", R"(
What run_training did: the run directory and its files, the final evaluation, and with a
validation split the best evaluation (by the validation metric) and its model.)")
      .def_property_readonly(
          "dir", [](const RunResult& r) { return r.dir.string(); }, "The run directory.")
      .def_property_readonly(
          "model", [](const RunResult& r) { return r.model.string(); },
          "The final model, dir/model.safetensors (a checkpoint to resume from).")
      .def_readonly("final_eval", &RunResult::final_eval,
                    "The final model's Evaluation (not made when the run was stopped).")
      .def_readonly("best_eval", &RunResult::best_eval,
                    "The Evaluation with the best validation metric (None without a "
                    "validation split).")
      .def_property_readonly(
          "best_model",
          [](const RunResult& r) -> std::optional<std::string> {
            if (r.best_model.empty()) return std::nullopt;
            return r.best_model.string();
          },
          "dir/best.safetensors, the best evaluation's model (None without a validation "
          "split).")
      .def_readonly("stopped_early", &RunResult::stopped_early,
                    "Whether early stopping ended the run before its planned iterations.")
      .def_readonly("seconds", &RunResult::seconds, "Wall-clock seconds of the training loop.");
  m.def(
      "run_training",
      [](Trainer& trainer, std::optional<std::string> dir, std::int64_t early_stop,
         bool overwrite) {
        if (early_stop < 0) {
          throw ValueError(
              "run_training: early_stop must be 0 (off) or a patience of at "
              "least 1 evaluation, got " +
              std::to_string(early_stop));
        }
        RunOptions options;
        if (dir) options.dir = *dir;
        options.early_stop = early_stop;
        options.overwrite = overwrite;
        RunObserver quiet;
        py::gil_scoped_release release;
        return run_training(trainer, options, quiet);
      },
      py::arg("trainer"), py::arg("dir") = py::none(), py::arg("early_stop") = 0,
      py::arg("overwrite") = false, R"(
Trains trainer to its planned iterations as `nabla train` does, evaluating once an epoch,
into the run directory dir (None: runs/<date-time>): metrics.csv, metrics.jsonl,
model.safetensors, curves.svg, and with a validation split (TrainConfig.validation)
best.safetensors. early_stop > 0 stops once that many evaluations in a row have not
bettered the best validation metric (needs a validation split). Returns a RunResult.)");

  py::class_<LoadedModel>(m, "LoadedModel", "A model file read back: spec, net, metadata.")
      .def_readonly("spec", &LoadedModel::spec, "The ModelSpec.")
      .def_readonly("net", &LoadedModel::net, "The network (a Sequential).")
      .def_readonly("metadata", &LoadedModel::metadata, "{key: value} kept beside the tensors.");
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
  bind_config(m);
  bind_trainer(m);
}

}  // namespace nabla::python
