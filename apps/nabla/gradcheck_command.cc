// `nabla gradcheck`: the textbook's gradient check — backprop against central
// differences — on TwoLayerNet and on the non-modular sigmoid variant, in float64.
// With --data DIR it checks on the first training images of MNIST, as the textbook
// does (x_train[:3], t_train[:3]); without, on random inputs. --model ner checks the
// window tagger of `nabla ner` (both tables, both Affine layers) on the first tweets of a
// CoNLL file (--data, default corpora/btc/btc.train).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>

#include "commands.h"
#include "nabla/autograd/gradcheck.h"
#include "nabla/data/mnist.h"
#include "nabla/nn/network.h"
#include "nabla/tasks/ner.h"

namespace nabla::cli {

namespace {

struct Batch {
  Tensor x;
  std::vector<std::int64_t> t;
};

// `n` random "images": pixels uniform in [0, 1], labels uniform in [0, classes).
Batch random_batch(std::int64_t n, std::int64_t features, std::int64_t classes, Rng& rng) {
  Batch b{Tensor::uniform({n, features}, rng, 0.0, 1.0, DType::f64), {}};
  for (std::int64_t i = 0; i < n; ++i) b.t.push_back(rng.below(classes));
  return b;
}

// The first `n` MNIST training images, pixels scaled to [0, 1], and their labels.
Batch mnist_batch(const std::string& dir, std::int64_t n) {
  Mnist mnist = load_mnist(dir);
  if (mnist.train.features != 784) {
    throw DataError(dir + ": training images have " + std::to_string(mnist.train.features) +
                    " pixels, the check's network takes 784 (28 x 28)");
  }
  n = std::min(n, mnist.train.size);
  return {images_as_tensor(mnist.train, 0, n, DType::f64), labels_as_vector(mnist.train, 0, n)};
}

std::vector<std::string> names_of(const std::vector<Var>& params) {
  std::vector<std::string> names;
  for (const Var& p : params) names.push_back(p.name());
  return names;
}

// Prints the textbook's lines and returns whether the check passed.
bool report(const std::string& title, const GradCheckReport& r, double max_mean_abs,
            double max_rel) {
  std::cout << title << "\n";
  for (const ParamCheck& p : r.params) {
    std::printf("%s: %.1e\n", p.name.c_str(), p.mean_abs_diff);
  }
  std::printf("max relative error: %.1e\n", r.max_rel_error());
  bool ok = r.max_mean_abs_diff() <= max_mean_abs && r.max_rel_error() <= max_rel;
  std::cout << (ok ? "ok" : "FAILED") << "\n";
  return ok;
}

}  // namespace

Runner add_gradcheck_command(CLI::App& app) {
  struct Options {
    std::int64_t samples = 3;
    std::uint64_t seed = 42;
    double max_mean_abs = 1e-7;
    double max_rel = 1e-6;
    // A central difference with h = 1e-4 carries a rounding error of about
    // 1e-16 * loss / h ~ 1e-11 whatever the gradient: gradients below this floor are
    // compared relative to it, or their noise alone would exceed max_rel.
    double rel_floor = 1e-4;
    std::optional<std::string> data;
    std::string model = "two-layer";
  };
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "gradcheck", "Compare backprop gradients with numerical ones (float64) on TwoLayerNet");
  sub->option_defaults()->always_capture_default();  // --help shows each default
  sub->add_option("--samples", opts->samples, "Inputs (sentences for --model ner) per check")
      ->check(CLI::Range(1, 100));
  sub->add_option("--model", opts->model,
                  "two-layer (TwoLayerNet and its sigmoid variant) or ner (the window tagger "
                  "of `nabla ner`, on the first --samples sentences of --data, a CoNLL file)")
      ->check(one_of({"two-layer", "ner"}));
  sub->add_option("--seed", opts->seed, "Random seed (weights, and inputs without --data)")
      ->check(whole_number(0, UINT64_MAX));  // (not "-1" wrapped to 2^64 - 1, issue 24)
  sub->add_option("--data", opts->data,
                  "Check on the first --samples MNIST training images of this directory "
                  "(as the textbook does) instead of random inputs");
  sub->add_option("--max-mean-abs", opts->max_mean_abs,
                  "Fail if a parameter's mean |numerical - backprop| exceeds this");
  sub->add_option("--max-rel", opts->max_rel,
                  "Fail if the max relative error |a - n| / max(|a|, |n|, floor) exceeds this");
  sub->add_option("--rel-floor", opts->rel_floor,
                  "Gradients smaller than this are compared relative to it")
      ->check(positive());
  return [opts]() -> int {
    Rng rng(opts->seed);
    if (opts->model == "ner") {
      const std::string path = opts->data.value_or("corpora/btc/btc.train");
      // The first sentences that hold an entity, and the file's whole tag set.
      std::vector<TaggedSentence> some;
      std::set<std::string> tags;
      for (const TaggedSentence& s : read_conll(path)) {
        tags.insert(s.tags.begin(), s.tags.end());
        const bool entity = std::any_of(s.tags.begin(), s.tags.end(),
                                        [](const std::string& t) { return t != "O"; });
        if (entity && static_cast<std::int64_t>(some.size()) < opts->samples) some.push_back(s);
      }
      if (tags.size() < 2) throw DataError(path + ": one tag only: no gradient to check");
      NerOptions o;
      o.hidden = 10;
      WindowTagger m = make_check_tagger(some, {tags.begin(), tags.end()}, 8, o, rng);
      NerExamples x = m.encode(some, path);
      return report(
                 "Window tagger (window 2: 8-d words + 5-d shapes, Affine-tanh(10)-Affine-"
                 "SoftmaxWithLoss), " +
                     std::to_string(some.size()) + " sentences (" + std::to_string(x.size()) +
                     " tokens) of " + path + ", float64",
                 gradient_check(m, x, 1e-5, opts->rel_floor), opts->max_mean_abs, opts->max_rel)
                 ? 0
                 : 1;
    }
    Batch b = opts->data ? mnist_batch(resolve_data_dir(opts->data), opts->samples)
                         : random_batch(opts->samples, 784, 10, rng);
    const std::string inputs =
        std::to_string(b.t.size()) + (opts->data ? " MNIST training images" : " random inputs");

    Sequential net = make_two_layer_net(784, 50, 10, 0.01, rng, DType::f64);
    net.zero_grad();
    net.gradient(b.x, b.t);
    std::vector<Var> params = net.parameters();
    std::vector<Tensor> analytic;
    for (const Var& p : params) analytic.push_back(p.grad());
    std::vector<Tensor> numerical = net.numerical_gradient(b.x, b.t);
    bool ok = report(
        "TwoLayerNet 784-50-10 (Affine-Relu-Affine-SoftmaxWithLoss), " + inputs + ", float64",
        compare_gradients(names_of(params), numerical, analytic, opts->rel_floor),
        opts->max_mean_abs, opts->max_rel);

    SigmoidTwoLayerNet sig(784, 50, 10, 0.01, rng, DType::f64);
    std::vector<Tensor> hand = sig.gradient(b.x, b.t);
    std::vector<Tensor> sig_numerical = sig.numerical_gradient(b.x, b.t);
    std::cout << "\n";
    ok = report("Sigmoid variant with hand-written backward, " + inputs + ", float64",
                compare_gradients(names_of(sig.parameters()), sig_numerical, hand, opts->rel_floor),
                opts->max_mean_abs, opts->max_rel) &&
         ok;
    return ok ? 0 : 1;
  };
}

}  // namespace nabla::cli
