// `nabla eval` and `nabla predict`: use a model file written by `nabla train`.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.h"
#include "nabla/image.h"
#include "nabla/ops.h"
#include "nabla/train.h"

namespace nabla::cli {

Runner add_eval_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::optional<std::string> data;
    bool train = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("eval", "Test accuracy of a trained model on MNIST");
  sub->add_option("--model", o->model, "Model file (model.safetensors of a run)")->required();
  sub->add_option("--data", o->data, "MNIST directory (default: $NABLA_DATA, else data/mnist)");
  sub->add_flag("--train", o->train, "Also report the accuracy on the training set");
  return [o]() -> int {
    LoadedModel m = load_model(o->model);
    Mnist mnist = load_mnist(resolve_data_dir(o->data));
    std::printf("model %s (%s iterations)\n", m.spec.describe().c_str(),
                m.metadata.count("iteration") ? m.metadata["iteration"].c_str() : "?");
    // Each image in the shape the model takes: 784 pixels, or (1, 28, 28) for a CNN (in
    // smaller blocks: its layers' outputs are many times larger).
    const Shape example = m.spec.example_shape();
    const std::int64_t block = example.size() == 1 ? 2000 : 200;
    if (o->train) {
      std::printf("train acc | %.4f\n", evaluate_accuracy(m.net, mnist.train, example, block));
    }
    std::printf("test acc | %.4f\n", evaluate_accuracy(m.net, mnist.test, example, block));
    return 0;
  };
}

Runner add_predict_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::optional<std::string> data;
    std::vector<std::string> inputs;
    std::vector<std::int64_t> indices;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("predict", "Classify digit images with a trained model");
  sub->add_option("--model", o->model, "Model file (model.safetensors of a run)")->required();
  sub->add_option("inputs", o->inputs,
                  "PGM or PNG images of a digit (any size; dark-on-light "
                  "pictures are inverted to MNIST's white-on-black)");
  sub->add_option("--index", o->indices, "Test-set images to classify, by index")
      ->delimiter(',')
      ->check(whole_number(0, INT64_MAX));
  sub->add_option("--data", o->data, "MNIST directory for --index");
  return [o]() -> int {
    if (o->inputs.empty() && o->indices.empty()) {
      std::cerr << "nabla predict: give image files or --index N\n";
      return 2;
    }
    LoadedModel m = load_model(o->model);
    auto classify = [&](const std::string& what, const std::vector<std::uint8_t>& pixels,
                        std::optional<int> label) {
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
      std::int64_t best = argmax_rows(p)[0];
      std::printf("%s: class %lld", what.c_str(), static_cast<long long>(best));
      if (label) std::printf(" (label %d)", *label);
      std::printf("\n  probabilities:");
      for (std::int64_t c = 0; c < p.numel(); ++c) {
        std::printf(" %lld:%.4f", static_cast<long long>(c), p.get(c));
      }
      std::printf("\n");
    };
    for (const std::string& path : o->inputs) {
      classify(path, to_mnist_pixels(read_image(path)), std::nullopt);
    }
    if (!o->indices.empty()) {
      Mnist mnist = load_mnist(resolve_data_dir(o->data));
      const Dataset& test = mnist.test;
      for (std::int64_t i : o->indices) {
        if (i >= test.size) {
          throw ValueError("predict: --index " + std::to_string(i) +
                           " is out of range: the test set has " + std::to_string(test.size) +
                           " images (0 to " + std::to_string(test.size - 1) + ")");
        }
        auto first = test.images.begin() + i * test.features;
        classify("test image " + std::to_string(i),
                 std::vector<std::uint8_t>(first, first + test.features),
                 test.labels[static_cast<std::size_t>(i)]);
      }
    }
    return 0;
  };
}

}  // namespace nabla::cli
