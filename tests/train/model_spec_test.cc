// Models described as data: the layer registry builds every preset with the shapes it
// promises, --arch strings read and write back and name the token that is wrong, model
// files of CNNs load (checked before anything is allocated) and resume bit for bit with a
// dropout's random stream, and model files written before layer lists still load.
#include "nabla/train/model_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nabla/core/safetensors.h"
#include "nabla/ops/ops.h"
#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

using testing_util::error_of;
using testing_util::same_bits;

using ::testing::HasSubstr;
using Shapes = std::vector<std::pair<std::string, Shape>>;

Shapes shapes_of(const NamedVars& vars) {
  Shapes out;
  for (const auto& [name, v] : vars) out.emplace_back(name, v.shape());
  return out;
}

// ---- presets --------------------------------------------------------------------------

TEST(ModelPreset, SimpleConvNetIsTheTextbooks) {
  ModelSpec s = model_preset("simple-convnet", {1, 28, 28}, 10);
  EXPECT_EQ(s.describe(),
            "simple-convnet 1x28x28: conv:30x5 relu maxpool:2 affine:100 relu affine:10, softmax "
            "loss");
  EXPECT_EQ(s.init, Init::normal);
  EXPECT_EQ(s.init_std, 0.01);
  const Shapes expected = {{"W1", {30, 1, 5, 5}}, {"b1", {30}},      {"W2", {30 * 12 * 12, 100}},
                           {"b2", {100}},         {"W3", {100, 10}}, {"b3", {10}}};
  EXPECT_EQ(s.parameter_shapes(), expected);
  EXPECT_TRUE(s.buffer_shapes().empty());
  Rng rng(1);
  Sequential net = build_model(s, rng);
  EXPECT_EQ(shapes_of(net.named_parameters()), expected);
  EXPECT_FALSE(net.takes_sparse_rows());
  // Weights 0.01 N(0, 1): the first filter bank's spread.
  std::vector<double> w = net.parameter("W1").value().to_vector();
  double squares = 0;
  for (double v : w) squares += v * v;
  EXPECT_NEAR(std::sqrt(squares / static_cast<double>(w.size())), 0.01, 0.002);
  EXPECT_EQ(net.predict(Tensor({2, 1, 28, 28})).shape(), (Shape{2, 10}));
}

TEST(ModelPreset, DeepConvNetIsTheTextbooks) {
  ModelSpec s = model_preset("deep-convnet", {1, 28, 28}, 10);
  EXPECT_EQ(s.init, Init::he);
  // 28 -> 28 -> 28 -> pool 14 -> 14 -> 16 (pad 2) -> pool 8 -> 8 -> 8 -> pool 4: 64x4x4.
  const Shapes expected = {
      {"W1", {16, 1, 3, 3}},  {"b1", {16}}, {"W2", {16, 16, 3, 3}}, {"b2", {16}},
      {"W3", {32, 16, 3, 3}}, {"b3", {32}}, {"W4", {32, 32, 3, 3}}, {"b4", {32}},
      {"W5", {64, 32, 3, 3}}, {"b5", {64}}, {"W6", {64, 64, 3, 3}}, {"b6", {64}},
      {"W7", {1024, 50}},     {"b7", {50}}, {"W8", {50, 10}},       {"b8", {10}}};
  EXPECT_EQ(s.parameter_shapes(), expected);
  Rng rng(1);
  Sequential net = build_model(s, rng);
  EXPECT_EQ(shapes_of(net.named_parameters()), expected);
  // He: std sqrt(2 / fan_in), fan_in = 16 * 3 * 3 for the second convolution.
  std::vector<double> w = net.parameter("W2").value().to_vector();
  double squares = 0;
  for (double v : w) squares += v * v;
  EXPECT_NEAR(std::sqrt(squares / static_cast<double>(w.size())), std::sqrt(2.0 / 144), 0.01);
  // Two dropouts, each with a random stream of its own.
  auto rngs = net.named_rngs();
  ASSERT_EQ(rngs.size(), 2u);
  EXPECT_NE(rngs[0].first, rngs[1].first);
  EXPECT_NE(rngs[0].second->state(), rngs[1].second->state());
  // One training step's gradient reaches every parameter; the dropouts draw (training
  // mode) and leave evaluation alone.
  Tensor x = Tensor::uniform({2, 1, 28, 28}, rng, 0, 1);
  const std::string before = rngs[0].second->state();
  const double loss = net.gradient(x, std::vector<std::int64_t>{3, 7});
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NE(rngs[0].second->state(), before);
  for (const auto& [name, p] : net.named_parameters()) {
    ASSERT_TRUE(p.has_grad()) << name;
    double sum = 0;
    for (double g : p.grad().to_vector()) sum += std::abs(g);
    EXPECT_GT(sum, 0) << name;
  }
  const std::string now = rngs[0].second->state();
  const Tensor a = net.predict(x), b = net.predict(x);
  EXPECT_TRUE(same_bits(a, b));
  EXPECT_EQ(rngs[0].second->state(), now);
}

TEST(ModelPreset, MlpsExpandToLayers) {
  ModelSpec s = model_preset("mlp", {784}, 10);
  EXPECT_EQ(arch_string(s.layer_list()), "affine:100 relu affine:100 relu affine:10");
  ModelSpec compact;
  compact.kind = "mlp";
  compact.hidden = {100, 100};
  EXPECT_EQ(s.to_json(), compact.to_json());
  s = model_preset("two-layer-net", {1, 28, 28}, 10);  // MLPs flatten
  EXPECT_EQ(s.inputs, 784);
  EXPECT_EQ(arch_string(s.layer_list()), "affine:50 relu affine:10");
  EXPECT_EQ(s.to_json(), ModelSpec{}.to_json());  // as model files have always held it
  Rng rng(1);
  EXPECT_TRUE(build_model(s, rng).takes_sparse_rows());  // the fast path, first
  EXPECT_EQ(arch_string(model_preset("linear", {4}, 3).layer_list()), "affine:3");
  EXPECT_EQ(error_of<ValueError>([] { model_preset("simple-convnet", {784}, 10); }),
            "model simple-convnet takes images (channels, height, width), not examples of (784)");
  EXPECT_THAT(error_of<ValueError>([] {
                model_preset("resnet", {1, 28, 28}, 10);
              }),
              HasSubstr("model 'resnet' is not one of two-layer-net"));
}

// ---- --arch ---------------------------------------------------------------------------

TEST(Arch, ReadsTheTextbookNetAndWritesItBack) {
  const std::string text = "conv:30x5 relu maxpool:2 affine:100 relu affine:10";
  ModelSpec s = model_from_arch(text, {1, 28, 28}, 10);
  EXPECT_EQ(s.kind, "arch");
  EXPECT_EQ(arch_string(s.layers), text);
  EXPECT_EQ(s.parameter_shapes(),
            model_preset("simple-convnet", {1, 28, 28}, 10).parameter_shapes());
  ASSERT_EQ(s.layers.size(), 6u);
  EXPECT_EQ(s.layers[0].options,
            (LayerOptions{{"filters", 30}, {"kernel", 5}, {"stride", 1}, {"pad", 0}}));
  EXPECT_EQ(s.layers[2].options, (LayerOptions{{"size", 2}, {"stride", 0}, {"pad", 0}}));

  // Named options, every kind, and an input token that reshapes rows into images.
  s = model_from_arch(
      "input:1x8x8 conv:4x3,pad=1,stride=1 batchnorm:momentum=0.8 relu avgpool:2,stride=2 "
      "maxpool:2 flatten dropout:0.25 affine:3 sigmoid tanh affine:2",
      {64}, 2);
  EXPECT_EQ(s.input_shape, (Shape{1, 8, 8}));
  EXPECT_EQ(arch_string(s.layers),
            "conv:4x3,pad=1 batchnorm:momentum=0.8 relu avgpool:2,stride=2 maxpool:2 flatten "
            "dropout:0.25 affine:3 sigmoid tanh affine:2");
  const Shapes expected = {{"W1", {4, 1, 3, 3}}, {"b1", {4}}, {"gamma2", {4}}, {"beta2", {4}},
                           {"W3", {16, 3}},      {"b3", {3}}, {"W4", {3, 2}},  {"b4", {2}}};
  EXPECT_EQ(s.parameter_shapes(), expected);
  EXPECT_EQ(s.buffer_shapes(), (Shapes{{"running_mean2", {4}}, {"running_var2", {4}}}));
  Rng rng(3);
  Sequential net = build_model(s, rng);
  EXPECT_EQ(shapes_of(net.named_parameters()), expected);
  EXPECT_EQ(shapes_of(net.named_buffers()), s.buffer_shapes());
  EXPECT_EQ(net.predict(Tensor({5, 1, 8, 8})).shape(), (Shape{5, 2}));
}

TEST(Arch, ErrorsNameTheToken) {
  auto error = [](const std::string& arch) {
    return error_of<ValueError>([&] { model_from_arch(arch, {1, 28, 28}, 10); });
  };
  EXPECT_EQ(error("conv:30x5 relu maxpool:two affine:10"),
            "--arch token 3 'maxpool:two': 'two' is not a number");
  EXPECT_THAT(error("conv2d:30x5 affine:10"),
              HasSubstr("--arch token 1 'conv2d:30x5': layer kind 'conv2d' is not one of affine, "
                        "relu, sigmoid, tanh, conv, maxpool"));
  EXPECT_EQ(error("conv:30x5,padding=1 affine:10"),
            "--arch token 1 'conv:30x5,padding=1': layer conv: unknown option 'padding' (it takes "
            "filters, kernel, stride, pad)");
  EXPECT_EQ(error("conv:30x5x1 affine:10"),
            "--arch token 1 'conv:30x5x1': 3 values before the options; conv takes 2");
  EXPECT_EQ(error("conv:30 affine:10"),
            "--arch token 1 'conv:30': layer conv: option 'kernel' is missing");
  EXPECT_EQ(error("affine:10 relu:3"),
            "--arch token 2 'relu:3': 1 values before the options; relu takes 0");
  EXPECT_EQ(error("affine:2.5"),
            "--arch token 1 'affine:2.5': layer affine: option 'out' must be a whole number from "
            "1 to 1048576, not 2.5");
  EXPECT_EQ(error("dropout:1 affine:10"),
            "--arch token 1 'dropout:1': layer dropout: option 'p' must be a number from 0 to "
            "0.99, not 1");
  EXPECT_EQ(error("input:1x28x27 affine:10"),
            "--arch token 1 'input:1x28x27': the input shape must have 1 to 3 sizes whose product "
            "is the 784 values of an example");
  EXPECT_EQ(error("   "), "--arch is empty: give layers such as 'affine:100 relu'");
  // Whole-model checks name the layer as it was written.
  EXPECT_EQ(error("conv:8x30 affine:10"),
            "--arch: layer 1 (conv:8x30): conv: a window of 30 does not fit the input (1,28,28) "
            "padded by 0");
  EXPECT_EQ(error("affine:100 maxpool:2 affine:10"),
            "--arch: layer 2 (maxpool:2): maxpool takes images (channels, height, width), not "
            "(100) (start the layers with input:CxHxW?)");
  EXPECT_EQ(error("conv:8x3 relu affine:100"),
            "--arch: model arch 1x28x28: conv:8x3 relu affine:100, softmax loss: the last layer "
            "gives (100) values an example, not one per class (10)");
}

// The README's grammar: options by name after a comma, with or without values after a
// colon first (issue 24, class 10: "batchnorm,eps=0.001" was an unknown kind).
TEST(Arch, NamedOptionsFollowTheKindWithoutAColon) {
  ModelSpec s =
      model_from_arch("affine:8 batchnorm,eps=0.001,momentum=0.8 relu affine:10", {1, 28, 28}, 10);
  ASSERT_EQ(s.layers.size(), 4u);
  EXPECT_EQ(s.layers[1].kind, "batchnorm");
  EXPECT_DOUBLE_EQ(s.layers[1].options.at("eps"), 0.001);
  EXPECT_DOUBLE_EQ(s.layers[1].options.at("momentum"), 0.8);
  // (written back in the colon form, which reads the same)
  const std::string written = arch_string(s.layers);
  EXPECT_EQ(written, "affine:8 batchnorm:momentum=0.8,eps=0.001 relu affine:10");
  EXPECT_EQ(arch_string(model_from_arch(written, {1, 28, 28}, 10).layers), written);
  EXPECT_DOUBLE_EQ(model_from_arch("maxpool,size=2,stride=1 affine:10", {1, 4, 4}, 10)
                       .layers[0]
                       .options.at("stride"),
                   1);
  // after a comma, values are named
  EXPECT_EQ(error_of<ValueError>([] { model_from_arch("batchnorm,0.001 affine:10", {4}, 10); }),
            "--arch token 1 'batchnorm,0.001': '0.001' is not an option (name=value)");
  EXPECT_EQ(error_of<ValueError>([] { model_from_arch("affine:10,", {4}, 10); }),
            "--arch token 1 'affine:10,': '' is not an option (name=value)");
}

// What is wrong whatever the data is found without it (the command checks --arch before
// reading the data); what depends on the data's shape is left to model_from_arch.
TEST(Arch, ParseArchChecksWhatTheDataCannotChange) {
  ArchLayers a = parse_arch("input:1x4x4 conv:2x3,pad=1 relu affine:3");
  EXPECT_EQ(a.input_shape, (Shape{1, 4, 4}));
  ASSERT_EQ(a.layers.size(), 3u);
  EXPECT_EQ(a.layers[0].options.at("pad"), 1);
  EXPECT_EQ(a.layers[0].options.at("stride"), 1);  // completed with its default
  EXPECT_EQ(error_of<ValueError>([] { parse_arch("affine:10 relu:3"); }),
            "--arch token 2 'relu:3': 1 values before the options; relu takes 0");
  EXPECT_EQ(error_of<ValueError>([] { parse_arch("input:0x4 affine:3"); }),
            "--arch token 1 'input:0x4': '0' is not a size from 1 to 1048576");
  EXPECT_EQ(error_of<ValueError>([] { parse_arch("input:1x1x1x1 affine:3"); }),
            "--arch token 1 'input:1x1x1x1': the input shape must have 1 to 3 sizes");
  EXPECT_EQ(error_of<ValueError>([] { parse_arch(""); }),
            "--arch is empty: give layers such as 'affine:100 relu'");
  // a window larger than the image is a matter of the data
  EXPECT_NO_THROW(parse_arch("conv:8x30 affine:10"));
}

// ---- JSON and model files ---------------------------------------------------------------

TEST(ModelSpecLayers, JsonRoundTrip) {
  ModelSpec s =
      model_from_arch("conv:6x3,pad=1 batchnorm relu maxpool:2 dropout:0.5 affine:4", {2, 6, 6}, 4);
  s.loss = "svm";
  s.init = Init::he;
  ModelSpec back = ModelSpec::from_json(s.to_json());
  EXPECT_EQ(back.to_json(), s.to_json());
  EXPECT_EQ(back.layers, s.layers);
  EXPECT_EQ(back.input_shape, (Shape{2, 6, 6}));
  EXPECT_EQ(back.inputs, 72);
  EXPECT_EQ(back.describe(), s.describe());
  nlohmann::json j = nlohmann::json::parse(s.to_json());
  EXPECT_EQ(j["layers"][0]["filters"], 6);  // whole numbers as integers
  EXPECT_EQ(j["layers"][4]["p"], 0.5);

  j["layers"][0]["pad"] = "one";
  EXPECT_EQ(error_of<ValueError>([&] { ModelSpec::from_json(j.dump()); }),
            "model architecture: layer 1: option 'pad' is not a number");
  j = nlohmann::json::parse(s.to_json());
  j.erase("layers");
  EXPECT_EQ(error_of<ValueError>([&] { ModelSpec::from_json(j.dump()); }),
            "model architecture: missing field 'layers'");
  j = nlohmann::json::parse(s.to_json());
  j["layers"][1].erase("kind");
  EXPECT_EQ(error_of<ValueError>([&] { ModelSpec::from_json(j.dump()); }),
            "model architecture: layer 2: missing field 'kind'");
}

class ModelFiles : public testing_util::TempDirTest {};

// Square synthetic images: class c lights up row c % side over dim noise.
Mnist synthetic_images(std::int64_t train, std::int64_t test, std::int64_t side) {
  auto split = [&](std::int64_t size, std::uint64_t seed) {
    Dataset d;
    d.size = size;
    d.features = side * side;
    Rng rng(seed);
    for (std::int64_t i = 0; i < size; ++i) {
      auto label = static_cast<std::uint8_t>(rng.below(10));
      d.labels.push_back(label);
      for (std::int64_t y = 0; y < side; ++y) {
        for (std::int64_t x = 0; x < side; ++x) {
          std::int64_t v = rng.below(80) + (y == label % side ? 150 : 0);
          d.images.push_back(static_cast<std::uint8_t>(v));
        }
      }
    }
    return d;
  };
  return Mnist{split(train, 1), split(test, 2)};
}

TrainConfig small_cnn(const std::string& arch) {
  TrainConfig c;
  c.model = model_from_arch(arch, {1, 10, 10}, 10);
  c.optimizer = "adam";
  c.lr = 0.01;
  c.batch = 20;
  c.iters = 40;
  return c;
}

TEST_F(ModelFiles, ConvNetWithDropoutAndBatchNormResumesBitForBit) {
  Mnist data = synthetic_images(200, 100, 10);
  const TrainConfig c =
      small_cnn("conv:4x3,pad=1 batchnorm relu maxpool:2 affine:16 relu dropout:0.5 affine:10");
  Trainer straight(c, data);
  std::vector<double> losses;
  while (!straight.done()) losses.push_back(straight.step());

  Trainer first(c, data);
  for (int i = 0; i < 15; ++i) first.step();
  first.save(path("checkpoint.safetensors"));
  SafetensorsFile f = load_safetensors(path("checkpoint.safetensors"));
  ASSERT_EQ(f.metadata.count("model_rngs"), 1u);
  EXPECT_THAT(f.metadata.at("model_rngs"), HasSubstr(".rng"));

  Trainer resumed = Trainer::resume(path("checkpoint.safetensors"), data);
  EXPECT_EQ(resumed.iteration(), 15);
  for (std::size_t i = 15; i < losses.size(); ++i) {
    ASSERT_EQ(resumed.step(), losses[i]) << "iteration " << i;
  }
  auto a = state_dict(straight.model()), b = state_dict(resumed.model());
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].first, b[k].first);
    EXPECT_TRUE(same_bits(a[k].second, b[k].second)) << a[k].first;  // running stats too
  }
  EXPECT_EQ(resumed.evaluate().test_acc, straight.evaluate().test_acc);

  // Without the dropout's stream the masks would differ: refused.
  f.metadata.erase("model_rngs");
  save_safetensors(path("no_rngs.safetensors"), f.tensors, f.metadata);
  EXPECT_EQ(error_of<DataError>([&] { Trainer::resume(path("no_rngs.safetensors"), data); }),
            path("no_rngs.safetensors") +
                ": cannot resume: metadata 'model_rngs' (the model's random streams) is missing");
}

TEST_F(ModelFiles, ConvNetLoadsAndScoresTheSame) {
  Mnist data = synthetic_images(300, 100, 10);
  TrainConfig c = small_cnn("conv:4x3 relu avgpool:2,stride=1 affine:10");
  c.iters = 60;
  Trainer t(c, data);
  while (!t.done()) t.step();
  const Evaluation e = t.evaluate();
  EXPECT_GT(e.test_acc, 0.9);  // the rows are easy: it learns
  t.save(path("model.safetensors"));
  LoadedModel m = load_model(path("model.safetensors"));
  EXPECT_EQ(m.spec.to_json(), c.model.to_json());
  EXPECT_EQ(evaluate_accuracy(m.net, data.test, m.spec.example_shape(), 7), e.test_acc);

  // Metadata that claims other filters than the file holds: refused, naming the shapes.
  SafetensorsFile f = load_safetensors(path("model.safetensors"));
  f.metadata["model"] =
      model_from_arch("conv:5x3 relu avgpool:2,stride=1 affine:10", {1, 10, 10}, 10).to_json();
  save_safetensors(path("other.safetensors"), f.tensors, f.metadata);
  EXPECT_EQ(error_of<DataError>([&] { load_model(path("other.safetensors")); }),
            path("other.safetensors") +
                ": parameter W1 has shape (4,1,3,3), the architecture arch 1x10x10: conv:5x3 relu "
                "avgpool:2,stride=1 affine:10, softmax loss expects (5,1,3,3)");
  // A batch norm's buffers are checked too.
  Rng rng(1);
  ModelSpec bn = model_from_arch("batchnorm affine:2", {3}, 2);
  Sequential net = build_model(bn, rng);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, v] : net.named_parameters()) tensors.emplace_back(name, v.value());
  save_safetensors(path("bn.safetensors"), tensors,
                   {{"format", "nabla-model-1"}, {"model", bn.to_json()}});
  EXPECT_EQ(error_of<DataError>([&] { load_model(path("bn.safetensors")); }),
            path("bn.safetensors") + ": buffer running_mean1 of " + bn.describe() + " is missing");
}

// Dense rows (as a CSV file gives them) reshaped into images by an input token: the same
// convolutional network learns them, and evaluates them in blocks.
TEST(DenseRows, ConvNetOnRowsShapedAsImages) {
  Mnist images = synthetic_images(300, 100, 10);
  auto rows = [](const Dataset& d, Tensor& x, std::vector<std::int64_t>& labels) {
    x = images_as_tensor(d, 0, d.size);  // (N, 100), pixels / 255
    labels = labels_as_vector(d, 0, d.size);
  };
  DenseData data;
  data.classes = 10;
  rows(images.train, data.train_x, data.train_labels);
  rows(images.test, data.test_x, data.test_labels);
  TrainConfig c = small_cnn("conv:4x3 relu avgpool:2,stride=1 affine:10");  // (Adam, batch 20)
  c.model = model_from_arch("input:1x10x10 conv:4x3 relu avgpool:2,stride=1 affine:10", {100}, 10);
  c.iters = 60;
  Trainer t(c, data);
  while (!t.done()) t.step();
  const Evaluation e = t.evaluate();
  EXPECT_GT(e.test_acc, 0.9);
  // Evaluated 200 rows at a time, the same as one row at a time.
  std::int64_t correct = 0;
  const std::vector<double> v = data.test_x.to_vector();
  for (std::int64_t i = 0; i < 100; ++i) {
    Tensor one = Tensor::from({1, 1, 10, 10},
                              std::vector<double>(v.begin() + i * 100, v.begin() + (i + 1) * 100),
                              DType::f32);
    Tensor scores = t.model().predict(one);
    correct += argmax_rows(scores)[0] == data.test_labels[static_cast<std::size_t>(i)];
  }
  EXPECT_EQ(static_cast<double>(correct) / 100, e.test_acc);
}

TEST_F(ModelFiles, HugeLayerListIsRefusedBeforeAllocating) {
  auto load = [&](const std::string& model_json) {
    save_safetensors(path("m.safetensors"), {{"W1", Tensor({2, 2})}},
                     {{"format", "nabla-model-1"}, {"model", model_json}});
    return error_of<DataError>([&] { load_model(path("m.safetensors")); });
  };
  nlohmann::json j =
      nlohmann::json::parse(model_from_arch("conv:4x3 affine:10", {1, 10, 10}, 10).to_json());
  j["layers"][0]["filters"] = 1 << 20;
  j["input_shape"] = {1024, 32, 32};
  j["layers"][0]["kernel"] = 3;
  EXPECT_THAT(load(j.dump()), HasSubstr("at most 16777216 are supported"));
  j = nlohmann::json::parse(model_from_arch("conv:4x3 affine:10", {1, 10, 10}, 10).to_json());
  j["layers"][0]["kernel"] = 1000;
  EXPECT_THAT(
      load(j.dump()),
      HasSubstr("layer conv: option 'kernel' must be a whole number from 1 to 64, not 1000"));
  j["layers"][0]["kernel"] = 3;
  j["input_shape"] = {1, 100000, 100000};
  EXPECT_THAT(load(j.dump()), HasSubstr("at most 1048576"));
  j["input_shape"] = {1, 10, 10};
  j["layers"] = nlohmann::json::array();
  for (int i = 0; i < 300; ++i) j["layers"].push_back({{"kind", "relu"}});
  EXPECT_EQ(load(j.dump()),
            path("m.safetensors") + ": model architecture: 300 layers; at most 256 are supported");
}

// Model files written before layer lists (the fuzz corpus holds three, of main at
// f5fbe21): they load, and resume where they stopped.
TEST(OldModelFiles, LoadAndResume) {
  const std::filesystem::path dir =
      std::filesystem::path(NABLA_SOURCE_DIR) / "tests/fuzz/corpus/model";
  for (const char* name : {"two_layer_sgd", "mlp_adam_shuffle", "linear_svm_momentum"}) {
    const std::string file = (dir / name).string();
    LoadedModel m = load_model(file);
    EXPECT_TRUE(m.spec.is_mlp()) << name;
    SafetensorsFile f = load_safetensors(file);
    for (const auto& [key, t] : f.tensors) {
      if (key.rfind("optimizer.", 0) == 0) continue;
      EXPECT_TRUE(same_bits(m.net.parameter(key).value(), t)) << name << " " << key;
    }
    // Data of the file's shape and size (its sampler's state names the size).
    std::istringstream sampler(f.metadata.at("sampler"));
    std::string mode;
    std::int64_t size = 0;
    sampler >> mode >> size;
    DenseData d;
    d.classes = m.spec.classes;
    d.train_x = Tensor::full({size, m.spec.inputs}, 0.5);
    d.test_x = Tensor::full({2, m.spec.inputs}, 0.5);
    for (std::int64_t i = 0; i < size; ++i) d.train_labels.push_back(i % d.classes);
    d.test_labels = {0, 1};
    Trainer t = Trainer::resume(file, d, 20);
    EXPECT_EQ(t.iteration(), std::stoll(f.metadata.at("iteration"))) << name;
    EXPECT_EQ(t.config().model.to_json(), m.spec.to_json());
    while (!t.done()) EXPECT_TRUE(std::isfinite(t.step())) << name;
  }
}

// ---- one L2 mechanism -----------------------------------------------------------------

TEST(L2, WeightDecayIsTheTextbooksSpellingOfReg) {
  Mnist data = synthetic_images(200, 50, 10);
  TrainConfig c = small_cnn("conv:4x3 relu maxpool:2 affine:10");
  c.optimizer = "momentum";
  c.reg = 0.05;
  Trainer by_reg(c, data);
  c.reg = 0;
  c.weight_decay = 0.1;  // loss + 0.05 sum W^2: gradient + 0.1 W
  Trainer by_decay(c, data);
  EXPECT_EQ(by_decay.l2_lambda(), 0.05);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(by_reg.step(), by_decay.step()) << i;
  auto a = by_reg.model().parameters(), b = by_decay.model().parameters();
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_TRUE(same_bits(a[k].value(), b[k].value()));
  // The convolution's rank-4 filters are penalised, the biases not: a step with the
  // penalty moves W1 by lr * 2 lambda W more, b1 not at all.
  c.weight_decay = 0;
  c.optimizer = "sgd";
  c.lr = 0.1;
  Trainer plain(c, data);
  c.reg = 0.5;
  Trainer penalised(c, data);
  const Tensor w0 = plain.model().parameter("W1").value();
  plain.step();
  penalised.step();
  std::vector<double> w = w0.to_vector(), wp = plain.model().parameter("W1").value().to_vector(),
                      wq = penalised.model().parameter("W1").value().to_vector();
  for (std::size_t i = 0; i < w.size(); ++i) {
    ASSERT_NEAR(wq[i] - wp[i], -c.lr * 2 * c.reg * w[i], 1e-6) << i;
  }
  EXPECT_TRUE(
      same_bits(plain.model().parameter("b1").value(), penalised.model().parameter("b1").value()));
  // AdamW keeps its decoupled decay: the optimizer's, not a penalty in the loss.
  c.reg = 0;
  c.optimizer = "adamw";
  c.weight_decay = 0.1;
  c.lr = 0.01;
  EXPECT_EQ(Trainer(c, data).l2_lambda(), 0.0);
}

}  // namespace
}  // namespace nabla
