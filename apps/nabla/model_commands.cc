// `nabla eval`, `nabla predict` and `nabla landscape`: use a model file written by
// `nabla train`.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "commands.h"
#include "exit_status.h"
#include "model_output.h"
#include "nabla/data/csv.h"
#include "nabla/data/image.h"
#include "nabla/ops/ops.h"
#include "nabla/train/landscape.h"
#include "nabla/train/run_dir.h"
#include "nabla/train/train.h"
#include "train_checks.h"

namespace nabla::cli {

namespace {

// The iteration count a model file records (absent from files of other tools).
std::optional<std::int64_t> iterations_of(const LoadedModel& m) {
  auto it = m.metadata.find("iteration");
  if (it == m.metadata.end()) return std::nullopt;
  std::int64_t n = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// Data whose examples are not what the model takes, said in the user's terms before any
// work: the first layer would only report its reshape, "(50,784) -> (50,4)". `data`
// says where the data's `features` come from.
void check_model_fits(const std::string& model_path, const ModelSpec& spec, std::int64_t features,
                      const std::string& data) {
  const Shape example = spec.example_shape();
  std::int64_t takes = 1;
  std::string dims;
  for (std::int64_t d : example) {
    takes *= d;
    dims += (dims.empty() ? "" : "x") + std::to_string(d);
  }
  if (takes == features) return;
  throw DataError(model_path + ": the model takes " + std::to_string(takes) + " features" +
                  (example.size() > 1 ? " (" + dims + ")" : "") + ", the data has " +
                  std::to_string(features) + " (" + data + ")");
}

bool is_regression(const LoadedModel& m) { return m.spec.loss == "mse"; }

bool is_csv_file(const std::optional<std::string>& data) {
  return data && std::filesystem::is_regular_file(*data);
}

// The rows of a CSV file for a model: the target (a regression model's value, or a class
// label in [0, classes)) first, then the model's features. For a regression model's
// predictions the target may be left out (rows of the features alone).
struct ModelRows {
  Tensor x;                          // (N, features) float32
  std::vector<std::int64_t> labels;  // a classifier's
  Tensor targets;                    // a regression's (N, 1); undefined when left out
};

ModelRows read_model_rows(const std::string& model_path, const LoadedModel& m,
                          const std::string& path, bool targets_optional) {
  const LabeledRows rows =
      is_regression(m) ? read_valued_csv(path) : read_labeled_csv(path, m.spec.classes);
  ModelRows out;
  const std::int64_t inputs = m.spec.inputs;
  if (is_regression(m) && targets_optional && rows.cols + 1 == inputs) {
    // The features alone: the first column was a feature, not a target.
    out.x = Tensor::empty({rows.rows, inputs}, DType::f32);
    float* x = out.x.data<float>();
    for (std::int64_t r = 0; r < rows.rows; ++r) {
      x[r * inputs] = rows.values[static_cast<std::size_t>(r)];
      std::copy_n(rows.features.data() + r * rows.cols, rows.cols, x + r * inputs + 1);
    }
    return out;
  }
  check_model_fits(model_path, m.spec, rows.cols,
                   "the fields after the first of each row of " + path);
  out.x = Tensor::empty({rows.rows, rows.cols}, DType::f32);
  std::copy(rows.features.begin(), rows.features.end(), out.x.data<float>());
  if (is_regression(m)) {
    out.targets = Tensor::empty({rows.rows, 1}, DType::f32);
    std::copy(rows.values.begin(), rows.values.end(), out.targets.data<float>());
  } else {
    out.labels = rows.labels;
  }
  return out;
}

}  // namespace

Runner add_eval_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::optional<std::string> data;
    bool train = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("eval", "Test accuracy of a trained model on MNIST");
  sub->add_option("--model", o->model, "Model file (model.safetensors of a run)")->required();
  sub->add_option("--data", o->data,
                  "MNIST directory (default: $NABLA_DATA, else data/mnist); the test files "
                  "are enough without --train. Or a CSV file of rows as `nabla train` reads "
                  "them (label or, for a regression model, target first): its accuracy, or "
                  "a regression's RMSE and MAE");
  sub->add_flag("--train", o->train, "Also report the accuracy on the training set");
  sub->add_flag("--json", o->json, "Print one JSON object (model, iterations, test_acc, ...)");
  return [o]() -> int {
    LoadedModel m = load_network(o->model);
    EvalReport r;
    r.model = m.spec.describe();
    r.iterations = iterations_of(m);
    if (is_csv_file(o->data)) {
      if (o->train) {
        throw UsageError(
            "--train reads MNIST's training files; to evaluate on a CSV file, "
            "give that file as --data");
      }
      const ModelRows rows = read_model_rows(o->model, m, *o->data, false);
      r.test_size = rows.x.size(0);
      if (is_regression(m)) {
        const RegressionErrors errors = evaluate_regression(m.net, rows.x, rows.targets);
        r.test_rmse = errors.rmse();
        r.test_mae = errors.mae();
      } else {
        r.test_acc = evaluate_accuracy(m.net, rows.x, rows.labels, m.spec.example_shape(), 2000);
      }
      print_eval(r, o->json);
      return kExitOk;
    }
    if (is_regression(m)) {
      throw UsageError(o->model +
                       " is a regression model: evaluate it on a CSV file of rows "
                       "(--data FILE.csv, the target first)");
    }
    const std::string dir = resolve_data_dir(o->data);
    // Each image in the shape the model takes: 784 pixels, or (1, 28, 28) for a CNN (in
    // smaller blocks: its layers' outputs are many times larger).
    const Shape example = m.spec.example_shape();
    const std::int64_t block = example.size() == 1 ? 2000 : 200;
    Dataset test = load_mnist_split(dir, MnistSplit::test);
    check_model_fits(o->model, m.spec, test.features, "the pixels of each image in " + dir);
    r.test_acc = evaluate_accuracy(m.net, test, example, block);
    r.test_size = test.size;
    if (o->train) {
      Dataset train = load_mnist_split(dir, MnistSplit::train);
      check_model_fits(o->model, m.spec, train.features, "the pixels of each image in " + dir);
      r.train_acc = evaluate_accuracy(m.net, train, example, block);
      r.train_size = train.size;
    }
    print_eval(r, o->json);
    return kExitOk;
  };
}

// The pixels of a picture as to_mnist_pixels makes them: 28 x 28.
constexpr std::int64_t kPicturePixels = 28 * 28;

Runner add_predict_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::optional<std::string> data;
    std::vector<std::string> inputs;
    std::vector<std::int64_t> indices;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("predict", "Classify digit images with a trained model");
  sub->add_option("--model", o->model, "Model file (model.safetensors of a run)")->required();
  sub->add_option("inputs", o->inputs,
                  "PGM or PNG images of a digit (any size; dark-on-light "
                  "pictures are inverted to MNIST's white-on-black)");
  sub->add_option("--index", o->indices, "Test-set images to classify, by index (0 to size - 1)")
      ->delimiter(',')
      ->check(whole_number(0, INT64_MAX));
  sub->add_option("--data", o->data,
                  "MNIST directory for --index (the test files); for a regression model, a "
                  "CSV file of rows: the features, optionally after the target (printed "
                  "beside the prediction)");
  sub->add_flag("--json", o->json, "Print one JSON object (model, predictions)");
  return [o]() -> int {
    if (o->inputs.empty() && o->indices.empty() && !is_csv_file(o->data)) {
      throw UsageError("give image files or --index N");
    }
    LoadedModel m = load_network(o->model);
    if (is_regression(m)) {
      if (!o->inputs.empty() || !o->indices.empty() || !is_csv_file(o->data)) {
        throw UsageError(o->model +
                         " is a regression model: it predicts the rows of a CSV "
                         "file (--data FILE.csv), not images");
      }
      const ModelRows rows = read_model_rows(o->model, m, *o->data, true);
      const Tensor values = m.net.predict(rows.x);  // (N, 1)
      std::vector<Prediction> predictions;
      for (std::int64_t i = 0; i < rows.x.size(0); ++i) {
        Prediction p;
        p.input = *o->data + " row " + std::to_string(i + 1);
        p.index = i;
        p.value = values.get(i);
        if (rows.targets.defined()) p.target = rows.targets.get(i);
        predictions.push_back(std::move(p));
      }
      print_predictions(m.spec.describe(), predictions, o->json);
      return kExitOk;
    }
    if (o->inputs.empty() && o->indices.empty()) {
      throw UsageError(
          "give image files or --index N (rows of a CSV file are for a "
          "regression model)");
    }
    auto classify = [&](const std::string& what, const std::vector<std::uint8_t>& pixels) {
      if (static_cast<std::int64_t>(pixels.size()) != m.spec.inputs) {
        throw ShapeError("predict: " + what + " has " + std::to_string(pixels.size()) +
                         " pixels, the model takes " + std::to_string(m.spec.inputs));
      }
      Shape shape{1};  // (1, 784), or (1, 1, 28, 28) for a CNN
      for (std::int64_t d : m.spec.example_shape()) shape.push_back(d);
      Tensor x(shape, DType::f32);
      for (std::size_t i = 0; i < pixels.size(); ++i) {
        x.set(static_cast<std::int64_t>(i), pixels[i] / 255.0);
      }
      Tensor p = softmax(m.net.predict(x));
      Prediction result;
      result.input = what;
      result.predicted = argmax_rows(p)[0];
      for (std::int64_t c = 0; c < p.numel(); ++c) result.probabilities.push_back(p.get(c));
      return result;
    };
    if (!o->inputs.empty()) {
      check_model_fits(o->model, m.spec, kPicturePixels, "a picture is scaled to 28x28 pixels");
    }
    std::vector<Prediction> predictions;
    for (const std::string& path : o->inputs) {
      predictions.push_back(classify(path, to_mnist_pixels(read_image(path))));
    }
    if (!o->indices.empty()) {
      const std::string dir = resolve_data_dir(o->data);
      Dataset test = load_mnist_split(dir, MnistSplit::test);
      check_model_fits(o->model, m.spec, test.features, "the pixels of each image in " + dir);
      for (std::int64_t i : o->indices) {
        if (i >= test.size) {
          throw ValueError("predict: --index " + std::to_string(i) +
                           " is out of range: the test set has " + std::to_string(test.size) +
                           " images (0 to " + std::to_string(test.size - 1) + ")");
        }
      }
      for (std::int64_t i : o->indices) {
        auto first = test.images.begin() + i * test.features;
        Prediction p = classify("test image " + std::to_string(i),
                                std::vector<std::uint8_t>(first, first + test.features));
        p.index = i;
        p.label = test.labels[static_cast<std::size_t>(i)];
        predictions.push_back(std::move(p));
      }
    }
    print_predictions(m.spec.describe(), predictions, o->json);
    return kExitOk;
  };
}

}  // namespace nabla::cli

namespace nabla::cli {

Runner add_landscape_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::optional<std::string> data;
    std::optional<std::string> out;
    std::int64_t size = 500;
    std::int64_t points = 21;
    double radius = 1.0;
    std::uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "landscape", "Loss of a trained model along 1-D and 2-D random-direction slices");
  sub->add_option("--model", o->model, "Model file (model.safetensors of a run)")->required();
  sub->add_option("--data", o->data, "MNIST directory (default: $NABLA_DATA, else data/mnist)");
  sub->add_option("--size", o->size, "Training images the loss is the mean over (the first N)")
      ->check(whole_number(1, INT64_MAX));
  sub->add_option("--points", o->points, "Points along each direction")
      ->check(whole_number(2, 201));
  sub->add_option("--radius", o->radius,
                  "Largest step along a direction (1: as far as the weights' own norm)")
      ->check(positive());
  sub->add_option("--seed", o->seed, "Seed of the random directions");
  sub->add_option("--out", o->out,
                  "Directory for landscape.svg and landscape.csv (default: the model's)")
      ->check(non_empty_path());
  return [o]() -> int {
    LoadedModel m = load_network(o->model);
    const std::string dir = resolve_data_dir(o->data);
    Dataset train = load_mnist_split(dir, MnistSplit::train);
    check_model_fits(o->model, m.spec, train.features, "the pixels of each image in " + dir);
    if (o->size > train.size) {
      throw UsageError("--size " + std::to_string(o->size) + " is more than the " +
                       std::to_string(train.size) + " training images in " + dir);
    }
    Shape shape = m.spec.example_shape();
    shape.insert(shape.begin(), o->size);
    const Tensor x = images_as_tensor(train, 0, o->size).reshape(shape);
    const Targets t(labels_as_vector(train, 0, o->size));
    const std::string loss_name = m.spec.loss == "svm" ? "SVM loss" : "softmax loss";
    Rng rng(o->seed);
    const LossSlices s =
        loss_slices([&] { return m.net.loss(x, t); }, m.net.parameters(), rng, o->radius, o->points);

    const std::filesystem::path out =
        o->out ? std::filesystem::path(*o->out)
               : std::filesystem::absolute(o->model).parent_path();
    std::filesystem::create_directories(out);
    std::ofstream csv(out / "landscape.csv");
    csv.precision(17);
    csv << "a,b,loss\n";  // (b = 0: the 1-D slice)
    const std::size_t n = s.steps.size();
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t c = 0; c < n; ++c) {
        csv << s.steps[c] << "," << s.steps[n - 1 - r] << "," << s.grid[r * n + c] << "\n";
      }
    }
    csv.close();
    check_written(csv, out / "landscape.csv");
    write_chart(out / "landscape.svg", loss_slice_panels(s, loss_name));
    double lowest = s.line.front(), highest = s.line.front();
    for (double v : s.line) lowest = std::min(lowest, v), highest = std::max(highest, v);
    std::printf("%s of %s on %lld training images: %.6f at the model; along direction 1 from "
                "%.6f to %.6f (steps -%g to %g)\n",
                loss_name.c_str(), o->model.c_str(), static_cast<long long>(o->size), s.at_model,
                lowest, highest, o->radius, o->radius);
    std::printf("loss slices written to %s (numbers: %s)\n", (out / "landscape.svg").string().c_str(),
                (out / "landscape.csv").string().c_str());
    return kExitOk;
  };
}

}  // namespace nabla::cli
