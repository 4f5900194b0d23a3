// `nabla eval` and `nabla predict` on inputs that do not fit: a model of other features, a
// model whose weights are not finite, a picture that is no file; and a model too large for
// memory. Each is a message in the user's terms and exit 1, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nabla/core/safetensors.h"
#include "nabla/nn/module.h"
#include "nabla/train/model_spec.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Result = testing_util::CommandResult;

class ModelCli : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    testing_util::write_small_mnist(dir_ / "mnist", 30, 20);
  }
  std::string data() const { return path("mnist"); }

  // A model file of `spec` with freshly initialised parameters, as `nabla train` writes
  // one; `change` may alter the tensors first.
  template <class Change>
  std::string save_model(const std::string& name, const ModelSpec& spec, Change change) const {
    Rng rng(1);
    std::vector<std::pair<std::string, Tensor>> tensors = state_dict(build_model(spec, rng));
    change(tensors);
    save_safetensors(path(name), tensors, {{"format", "nabla-model-1"}, {"model", spec.to_json()}});
    return path(name);
  }
  std::string save_model(const std::string& name, const ModelSpec& spec) const {
    return save_model(name, spec, [](auto&) {});
  }
};

// A model trained on 4 CSV features, evaluated on 784-pixel images: said as such before
// any work, not as the reshape deep inside the first layer that fails.
TEST_F(ModelCli, ModelOfOtherFeaturesIsNamedInTheUsersTerms) {
  ModelSpec spec;
  spec.inputs = 4;
  spec.hidden = {8};
  const std::string model = save_model("four.safetensors", spec);
  for (const std::string& args : {"eval --model " + model + " --data " + data(),
                                  "eval --json --model " + model + " --data " + data(),
                                  "predict --index 0 --model " + model + " --data " + data()}) {
    Result r = testing_util::run_nabla(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.out;
    EXPECT_THAT(r.out, HasSubstr(model + ": the model takes 4 features, the data has 784 ("))
        << args;
    EXPECT_THAT(r.out, Not(HasSubstr("reshape"))) << args;
  }
  // A picture becomes 28 x 28 pixels, whatever its size.
  const std::string pgm = "P5 28 28 255\n" + std::string(784, '\0');
  testing_util::write_bytes(path("digit.pgm"), {pgm.begin(), pgm.end()});
  Result picture = testing_util::run_nabla("predict --model " + model + " " + path("digit.pgm"));
  EXPECT_EQ(picture.status, 1) << picture.out;
  EXPECT_THAT(picture.out, HasSubstr(model + ": the model takes 4 features, the data has 784 (a "
                                             "picture is scaled to 28x28 pixels)"));
  // A convolutional model takes images of a shape: that is what is named.
  const std::string small =
      save_model("cnn.safetensors", model_preset("simple-convnet", {1, 20, 20}, 10));
  Result r = testing_util::run_nabla("eval --model " + small + " --data " + data());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(small + ": the model takes 400 features (1x20x20), the data has "
                                       "784 ("));
}

// Weights that are NaN or infinite would evaluate to an accuracy with exit 0: refused at
// load, naming the parameter.
TEST_F(ModelCli, ModelWithNonFiniteWeightsIsRefused) {
  ModelSpec spec;
  spec.hidden = {8};
  const std::string model = save_model("nan.safetensors", spec, [](auto& tensors) {
    tensors[2].second.set(3, std::numeric_limits<double>::quiet_NaN());  // W2
  });
  Result r = testing_util::run_nabla("eval --model " + model + " --data " + data());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(model + ": parameter W2 holds NaN (element 3)"));
  EXPECT_THAT(r.out, Not(HasSubstr("test acc")));
}

// A picture is read whole: a device such as /dev/zero (which never ends) or a directory is
// refused by what it is, at once.
TEST_F(ModelCli, PredictReadsOnlyRegularFiles) {
  ModelSpec spec;
  spec.hidden = {8};
  const std::string model = save_model("m.safetensors", spec);
  // (timeout: were /dev/zero read, the test would fail in seconds, not take the memory)
  Result r = testing_util::run_command("timeout 20 " + std::string(NABLA_CLI) +
                                       " predict --model " + model + " /dev/zero");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla: error: /dev/zero: is a device, not a picture file"));
  r = testing_util::run_nabla("predict --model " + model + " " + data());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(data() + ": is a directory, not a picture file"));
  // The model file too.
  r = testing_util::run_nabla("eval --model /dev/zero --data " + data());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("/dev/zero: is a device, not a safetensors file"));
}

// A model larger than the memory the process may have: std::bad_alloc becomes a message
// naming the command, exit 1. (Not under AddressSanitizer, which cannot run in a small
// address space.)
TEST_F(ModelCli, RunningOutOfMemoryIsAMessage) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer needs more address space than ulimit -v leaves";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer needs more address space than ulimit -v leaves";
#endif
#endif
  // 784 x 300,000 float32 weights are 940 MB, more than the 1 GB of address space has
  // room for beside the program.
  Result r = testing_util::run_command("ulimit -v 1000000 && " + std::string(NABLA_CLI) +
                                       " train --hidden 300000 --iters 1 --batch 10 --data " +
                                       data() + " --out " + path("run"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla: error: out of memory while running 'nabla train': "));
  EXPECT_THAT(r.out, Not(HasSubstr("std::bad_alloc")));
}

}  // namespace
}  // namespace nabla
