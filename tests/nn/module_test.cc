// Modules: named parameters and buffers, hierarchical names, train/eval mode, clone(), a
// layer applied twice in one graph, and state that survives save -> load -> eval.
#include "nabla/nn/module.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "nabla/autograd/gradcheck.h"
#include "nabla/core/safetensors.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/network.h"
#include "nabla/ops/ops.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

Tensor random(Shape shape, std::uint64_t seed, double low = -1, double high = 1) {
  Rng rng(seed);
  return Tensor::uniform(std::move(shape), rng, low, high, DType::f64);
}

std::vector<std::string> names(const NamedVars& vars) {
  std::vector<std::string> out;
  for (const auto& [name, v] : vars) out.push_back(name);
  return out;
}

// A layer with a buffer, in the way of a batch norm's running statistics: in training it
// subtracts the batch's mean of each feature and moves `running_mean` towards it; in
// evaluation it subtracts `running_mean`.
class CenterFeatures : public Layer {
 public:
  explicit CenterFeatures(std::int64_t features) {
    running_mean_ = register_buffer("running_mean", Tensor::zeros({features}, DType::f64));
  }
  std::string kind() const override { return "CenterFeatures"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<CenterFeatures>(*this); }
  Tensor forward(const Tensor& x) override {
    Tensor& running = buffer_at(running_mean_);
    if (!is_training()) return sub(x, running);
    Tensor mu = mean(x, 0);
    running = add(scale(running, 0.9), scale(mu, 0.1));
    return sub(x, mu);
  }
  Tensor backward(const Tensor& dout) override {
    // d(x - mean(x)) / dx: dout minus its mean over the batch
    return sub(dout, mean(dout, 0));
  }

 private:
  std::size_t running_mean_ = 0;
};

// Two affine layers and a buffer layer under names of their own.
class Block : public Layer {
 public:
  explicit Block(Rng& rng) {
    fc1_ = register_module("fc1", std::make_unique<Affine>(3, 4, 0.5, rng, DType::f64));
    center_ = register_module("center", std::make_unique<CenterFeatures>(4));
    fc2_ = register_module("fc2", std::make_unique<Affine>(4, 2, 0.5, rng, DType::f64));
  }
  std::string kind() const override { return "Block"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Block>(*this); }
  Tensor forward(const Tensor& x) override {
    return layer(fc2_).forward(layer(center_).forward(layer(fc1_).forward(x)));
  }
  Tensor backward(const Tensor& dout) override {
    return layer(fc1_).backward(layer(center_).backward(layer(fc2_).backward(dout)));
  }
  Affine& fc1() { return static_cast<Affine&>(module_at(fc1_)); }

 private:
  Layer& layer(std::size_t i) { return static_cast<Layer&>(module_at(i)); }
  std::size_t fc1_ = 0, center_ = 0, fc2_ = 0;
};

TEST(Module, HierarchicalNamesOfParametersAndBuffers) {
  Rng rng(1);
  Block block(rng);
  EXPECT_EQ(names(block.named_parameters()),
            (std::vector<std::string>{"fc1.W", "fc1.b", "fc2.W", "fc2.b"}));
  EXPECT_EQ(names(block.named_buffers()), (std::vector<std::string>{"center.running_mean"}));
  EXPECT_EQ(block.parameter("fc2.b").shape(), (Shape{2}));
  try {
    block.parameter("fc3.W");
    FAIL() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Block: no parameter named 'fc3.W'"));
    EXPECT_THAT(e.what(), HasSubstr("fc1.W, fc1.b, fc2.W, fc2.b"));
  }
}

TEST(Module, SequentialNamesStateAsTheTextbook) {
  Rng rng(2);
  Sequential net;
  net.emplace<Affine>(3, 4, 0.1, rng, DType::f64);
  net.emplace<Relu>();
  net.emplace<CenterFeatures>(4);
  net.emplace<Affine>(4, 2, 0.1, rng, DType::f64);
  EXPECT_EQ(names(net.named_parameters()), (std::vector<std::string>{"W1", "b1", "W3", "b3"}));
  EXPECT_EQ(names(net.named_buffers()), (std::vector<std::string>{"running_mean2"}));
  // a Sequential inside a module: its names under the module's
  struct Outer : Layer {
    Outer(Rng& r) {
      auto inner = std::make_unique<Sequential>();
      inner->emplace<Affine>(2, 2, 0.1, r, DType::f64);
      register_module("body", std::move(inner));
    }
    std::string kind() const override { return "Outer"; }
    std::unique_ptr<Module> copy() const override { return std::make_unique<Outer>(*this); }
    Tensor forward(const Tensor& x) override { return x; }
    Tensor backward(const Tensor& d) override { return d; }
  };
  Outer outer(rng);
  EXPECT_EQ(names(outer.named_parameters()), (std::vector<std::string>{"body.W1", "body.b1"}));
}

TEST(Module, TrainAndEvalRecurse) {
  Rng rng(3);
  Sequential net;
  net.emplace<Affine>(3, 3, 0.1, rng, DType::f64);
  Block& block = net.emplace<Block>(rng);
  EXPECT_TRUE(block.fc1().is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net.layer(0).is_training());
  EXPECT_FALSE(block.fc1().is_training());
  net.train();
  EXPECT_TRUE(block.fc1().is_training());
  // predict runs in evaluation mode and leaves the mode as it was
  Tensor x = random({5, 3}, 4);
  Tensor before = block.named_buffers()[0].second.value();
  net.predict(x);
  EXPECT_EQ(max_abs_diff(block.named_buffers()[0].second.value(), before), 0.0);
  EXPECT_TRUE(block.fc1().is_training());
}

TEST(Module, CloneHasItsOwnStateWithTheSameValues) {
  Rng rng(4);
  Block block(rng);
  block.forward(random({6, 3}, 5));  // moves the running mean away from zero
  block.eval();
  std::unique_ptr<Block> copy = clone_of(block);
  EXPECT_FALSE(copy->is_training());
  EXPECT_FALSE(copy->fc1().is_training());
  NamedVars a = block.named_parameters(), b = copy->named_parameters();
  ASSERT_EQ(names(a), names(b));
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(max_abs_diff(a[i].second.value(), b[i].second.value()), 0.0) << a[i].first;
    EXPECT_NE(a[i].second.node(), b[i].second.node()) << a[i].first;
  }
  Tensor x = random({2, 3}, 6);
  EXPECT_EQ(max_abs_diff(block.forward(x), copy->forward(x)), 0.0);
  // changing the copy leaves the original alone: parameters and buffers
  copy->fc1().W().value().fill(0.0);
  copy->named_buffers()[0].second.value().fill(7.0);
  EXPECT_NE(block.fc1().W().value().get(0), 0.0);
  EXPECT_NE(block.named_buffers()[0].second.value().get(0), 7.0);
}

TEST(Module, LayerAppliedTwiceInOneGraphHasCorrectGradients) {
  // y = A(tanh(A(x))): one Affine, two nodes; each node keeps its own cache and both add
  // into the same W and b.
  Rng rng(5);
  Affine A(Tensor::uniform({3, 3}, rng, -1, 1, DType::f64),
           Tensor::uniform({3}, rng, -1, 1, DType::f64));
  Var x = Var::parameter(random({4, 3}, 7), "x");
  Tensor w = random({4, 3}, 8);
  auto f = [&] { return sum(A(tanh(A(x))) * Var::constant(w)); };
  GradCheckReport r = gradient_check(f, {x, A.W(), A.b()});
  ASSERT_EQ(r.params.size(), 3u);
  for (const ParamCheck& p : r.params) EXPECT_LE(p.max_rel_error, 1e-6) << p.name;
  // and the gradient of W is not that of one application alone
  A.W().zero_grad();
  sum(A(x) * Var::constant(w)).backward();
  Tensor once = A.W().grad();
  A.W().zero_grad();
  f().backward();
  EXPECT_GT(max_abs_diff(A.W().grad(), once), 1e-3);
}

TEST(Module, BufferSurvivesSaveLoadEval) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("nabla_module_test_" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  Rng rng(6);
  Block trained(rng);
  for (std::uint64_t step = 0; step < 5; ++step) trained.forward(random({8, 3}, 10 + step, 0, 2));
  trained.eval();
  Tensor x = random({3, 3}, 20);
  Tensor expected = trained.forward(x);
  save_safetensors(path, state_dict(trained), {});

  Rng other(99);
  Block loaded(other);  // other weights, a zero running mean
  loaded.eval();
  EXPECT_GT(max_abs_diff(loaded.forward(x), expected), 1e-3);
  const void* storage = loaded.named_parameters()[0].second.value().raw();
  load_state_dict(loaded, load_safetensors(path).tensors);
  // the values are copied into the parameters' own storage (views of it stay valid)
  EXPECT_EQ(loaded.named_parameters()[0].second.value().raw(), storage);
  EXPECT_EQ(max_abs_diff(loaded.named_buffers()[0].second.value(),
                         trained.named_buffers()[0].second.value()),
            0.0);
  EXPECT_EQ(max_abs_diff(loaded.forward(x), expected), 0.0);

  // a missing buffer is named
  std::vector<std::pair<std::string, Tensor>> partial = state_dict(trained);
  partial.pop_back();
  try {
    load_state_dict(loaded, partial);
    FAIL() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("buffer center.running_mean is missing"));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nabla
