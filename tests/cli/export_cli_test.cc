// `nabla export --format torch`: models of every layer kind that maps one to one, loaded
// into torch.nn modules (tests/interop/torch_export_check.py, skipped without
// python3-torch), predict what `nabla predict` does; the layouts are PyTorch's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "nabla/core/safetensors.h"
#include "nabla/nn/module.h"
#include "nabla/train/model_spec.h"
#include "nabla/train/torch_export.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using Result = testing_util::CommandResult;

class ExportCli : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    testing_util::write_small_mnist(dir_ / "mnist", 10, 20);
  }

  // A model file of `spec` as `nabla train` writes one, every parameter and buffer random
  // (so that a transposed or misnamed tensor changes the predictions).
  std::string save_model(const std::string& name, const ModelSpec& spec) const {
    Rng rng(7);
    std::vector<std::pair<std::string, Tensor>> tensors = state_dict(build_model(spec, rng));
    for (auto& [key, t] : tensors) {
      const bool variance = key.rfind("running_var", 0) == 0;
      t = Tensor::uniform(t.shape(), rng, variance ? 0.5 : -0.3, variance ? 2.0 : 0.3, t.dtype());
    }
    save_safetensors(path(name), tensors, {{"format", "nabla-model-1"}, {"model", spec.to_json()}});
    return path(name);
  }

  // Exports `model`, predicts the 20 test images with nabla and checks PyTorch agrees.
  void expect_torch_agrees(const std::string& model) {
    const std::string out = model + ".torch.safetensors";
    Result e = testing_util::run_nabla("export --format torch " + model + " " + out);
    ASSERT_EQ(e.status, 0) << e.out;
    Result p = testing_util::run_nabla("predict --json --model " + model + " --data " +
                                       path("mnist") + " --index " + indices() + " > " +
                                       path("predictions.json"));
    ASSERT_EQ(p.status, 0) << p.out;
    // The first Python 3 that has torch: the one on PATH, else Debian's (a python3 of
    // pyenv or a virtual environment does not see python3-torch).
    Result check;
    for (const char* python : {"python3", "/usr/bin/python3"}) {
      check = testing_util::run_command(
          std::string(python) + " " + NABLA_SOURCE_DIR + "/tests/interop/torch_export_check.py " +
          out + " " + path("predictions.json") + " " + path("mnist/t10k-images-idx3-ubyte"));
      if (check.status != 77) break;
    }
    if (check.status == 77) GTEST_SKIP() << check.out;
    EXPECT_EQ(check.status, 0) << check.out;
    EXPECT_THAT(check.out, HasSubstr("20 images: the same argmax on 20,"));
  }
  static std::string indices() {
    std::string s;
    for (int i = 0; i < 20; ++i) s += (i ? "," : "") + std::to_string(i);
    return s;
  }
};

TEST_F(ExportCli, MlpPredictsTheSameInTorch) {
  ModelSpec spec;
  spec.kind = "mlp";
  spec.hidden = {32, 16};
  spec.activation = "tanh";
  expect_torch_agrees(save_model("mlp.safetensors", spec));
}

TEST_F(ExportCli, SimpleConvNetPredictsTheSameInTorch) {
  expect_torch_agrees(
      save_model("cnn.safetensors", model_preset("simple-convnet", {1, 28, 28}, 10)));
}

// Batch norm with its running statistics (1-d and 2-d), strides, both pools, dropout,
// sigmoid and an explicit flatten.
TEST_F(ExportCli, EveryMappedLayerKindPredictsTheSameInTorch) {
  const ModelSpec spec = model_from_arch(
      "conv:6x3,stride=2,pad=1 batchnorm relu maxpool:2 conv:4x3 avgpool:2,stride=1 flatten "
      "affine:12 batchnorm sigmoid dropout:0.3 affine:10",
      {1, 28, 28}, 10);
  expect_torch_agrees(save_model("arch.safetensors", spec));
}

// The layouts, read back: Linear's weight is W transposed, a conv's is nabla's own, batch
// norm's gamma and beta are weight and bias; an image before an affine gets a Flatten.
TEST_F(ExportCli, TensorsHavePyTorchsNamesAndLayouts) {
  const ModelSpec spec = model_from_arch("conv:3x5 batchnorm affine:10", {1, 28, 28}, 10);
  const std::string model = save_model("small.safetensors", spec);
  const TorchExport t = torch_state_dict(load_model(model));
  SafetensorsFile nabla_file = load_safetensors(model);
  auto nabla_tensor = [&](const std::string& name) {
    for (auto& [key, value] : nabla_file.tensors) {
      if (key == name) return value;
    }
    ADD_FAILURE() << "no " << name;
    return Tensor();
  };
  std::vector<std::string> names;
  for (const auto& [name, value] : t.tensors) names.push_back(name);
  EXPECT_THAT(names, ::testing::ElementsAre("0.weight", "0.bias", "1.weight", "1.bias",
                                            "1.running_mean", "1.running_var", "3.weight",
                                            "3.bias"));
  const Tensor W = nabla_tensor("W3");  // (3 * 24 * 24, 10)
  const Tensor& weight = t.tensors[6].second;
  ASSERT_EQ(weight.shape(), (Shape{10, 3 * 24 * 24}));
  EXPECT_EQ(weight.get(2 * 1728 + 5), W.get(5 * 10 + 2));
  EXPECT_TRUE(testing_util::same_bits(t.tensors[0].second, nabla_tensor("W1")));
  EXPECT_TRUE(testing_util::same_bits(t.tensors[2].second, nabla_tensor("gamma2")));
  EXPECT_TRUE(testing_util::same_bits(t.tensors[5].second, nabla_tensor("running_var2")));
  EXPECT_EQ(t.modules,
            R"([{"in_channels":1,"kernel_size":5,"module":"Conv2d","out_channels":3,"padding":0,)"
            R"("stride":1},{"eps":1e-05,"module":"BatchNorm2d","momentum":0.1,)"
            R"("num_features":3},{"module":"Flatten"},{"in_features":1728,"module":"Linear",)"
            R"("out_features":10}])");
}

TEST_F(ExportCli, LayerWithoutATorchModuleIsRefused) {
  const std::string model =
      save_model("pad.safetensors", model_from_arch("maxpool:2,pad=1 affine:10", {1, 28, 28}, 10));
  Result r = testing_util::run_nabla("export --format torch " + model + " " + path("out"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("layer 0 (maxpool) has padding"));
  Result bad = testing_util::run_nabla("export --format onnx " + model + " " + path("out"));
  EXPECT_EQ(bad.status, 2) << bad.out;
}

}  // namespace
}  // namespace nabla
