// nabla/train.h — mini-batch training on MNIST, the textbook's train_neuralnet:
//
//   Mnist data = load_mnist(resolve_data_dir(std::nullopt));
//   Trainer trainer(TrainConfig{}, data);          // TwoLayerNet, SGD lr 0.1, batch 100
//   while (!trainer.done()) {
//     double loss = trainer.step();                // sample a batch, backprop, update
//     if (trainer.eval_due()) {                    // after iterations 0, 600, 1200, ...
//       Evaluation e = trainer.evaluate();         // full training and test sets
//       std::printf("train acc, test acc | %.4f, %.4f\n", e.train_acc, e.test_acc);
//     }
//   }
//   trainer.save("model.safetensors");            // resumable checkpoint
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nabla/mnist.h"
#include "nabla/network.h"
#include "nabla/optim.h"
#include "nabla/prefetch.h"
#include "nabla/safetensors.h"
#include "nabla/sparse.h"

namespace nabla {

// Thrown when training goes wrong: a loss that is NaN or infinite or that grows by orders of
// magnitude over its start, or parameters that are no longer finite.
class TrainingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The architecture of a model, stored in its file so it can be rebuilt.
struct ModelSpec {
  std::string kind = "two-layer-net";  // two-layer-net | mlp | linear
  std::int64_t inputs = 784;
  std::int64_t classes = 10;
  std::vector<std::int64_t> hidden = {50};  // hidden layer sizes (none for linear)
  std::string activation = "relu";          // relu | sigmoid | tanh
  std::string loss = "softmax";             // softmax | svm
  Init init = Init::normal;
  double init_std = 0.01;  // for Init::normal

  // Bounds on what a spec may ask for (from options or from a model file): each layer's
  // width, the number of hidden layers and the parameters in all.
  static constexpr std::int64_t kMaxWidth = std::int64_t{1} << 20;
  static constexpr std::size_t kMaxHiddenLayers = 64;
  static constexpr std::int64_t kMaxParameters = std::int64_t{1} << 28;  // 1 GiB of f32

  std::string to_json() const;
  // Throws ValueError naming the field that is missing or wrong (an integer field holding
  // a fraction or a number out of range included).
  static ModelSpec from_json(const std::string& json);
  // Throws ValueError for an unknown kind, activation or loss, a size out of bounds, or an
  // init_std that is not a positive number. Allocates nothing.
  void check() const;
  // The parameters build_model makes, in order, with their shapes: W1 (inputs, hidden[0]),
  // b1 (hidden[0]), ..., Wn (.., classes), bn (classes). Calls check().
  std::vector<std::pair<std::string, Shape>> parameter_shapes() const;
  // "784-50-10 relu, softmax loss"
  std::string describe() const;
};

// Affine -> activation -> ... -> Affine, with SoftmaxWithLoss or SvmLoss. Checks the spec.
Sequential build_model(const ModelSpec& spec, Rng& rng, DType dtype = DType::f32);

struct TrainConfig {
  ModelSpec model;
  std::int64_t iters = 10000;
  std::int64_t epochs = 0;  // if > 0, iters = epochs * iterations per epoch
  std::int64_t batch = 100;
  double lr = 0.1;
  std::string optimizer = "sgd";
  double weight_decay = 0;  // passed to the optimizer
  // The L2 penalty lambda * sum(W^2) over every weight (a parameter of rank 2 or more, of
  // any layer), never over a bias: the loss gains it and each weight's gradient 2 lambda W.
  // (weight_decay is the optimizer's own, on every parameter; see optim.h.)
  double reg = 0;
  std::uint64_t seed = 42;
  Sampling sampling = Sampling::with_replacement;

  std::string to_json() const;
  static TrainConfig from_json(const std::string& json);
};

struct Evaluation {
  std::int64_t iteration = 0;  // iterations done when evaluated
  double train_acc = 0;
  double test_acc = 0;
  double seconds = 0;  // how long the evaluation took (on whichever thread ran it)
};

// The fraction of `data` that `net` classifies correctly, in blocks (no copy of the
// whole set as floats).
double evaluate_accuracy(Sequential& net, const Dataset& data, std::int64_t block = 2000);
// The same from the sparse form of the images (the first layer multiplies non-zeros only).
double evaluate_accuracy(Sequential& net, const SparsePixels& pixels, const ByteBuffer& labels,
                         std::int64_t block = 2000);

// Labelled rows held dense, for data that are not pixels (a CSV file, nabla/csv.h):
// features (N, D) float32 and class labels in [0, classes).
struct DenseData {
  Tensor train_x, test_x;
  std::vector<std::int64_t> train_labels, test_labels;
  std::int64_t classes = 0;
};

// The rows of `nabla train --data train.csv [--test-data test.csv]` (read by csv.h) as
// DenseData. Without a test file, a sixth of the training rows, drawn with Rng(seed), is
// held out as the test set. A test label beyond the training file's classes is a
// DataError naming the test file and line, as are test rows of another width.
struct CsvData {
  DenseData data;
  bool held_out = false;  // the test rows were held out of the training file
};
CsvData load_csv_data(const std::string& train_path, const std::string& test_path,
                      std::uint64_t seed);

// The fraction of the rows of x (N, D) whose label `net` predicts, in blocks.
double evaluate_accuracy(Sequential& net, const Tensor& x, const std::vector<std::int64_t>& labels,
                         std::int64_t block = 2000);

class Trainer {
 public:
  // The data as sparse pixels: load_mnist_sparse(dir) reads it so, straight from the
  // files; a dense Mnist is converted (SparseMnist::from). The trainer keeps its own copy.
  Trainer(TrainConfig config, SparseMnist data);
  Trainer(TrainConfig config, const Mnist& data);
  // Dense rows (any features, e.g. from CSV files): the batches are copied from them.
  Trainer(TrainConfig config, DenseData data);
  // Continues from a checkpoint written by save(): parameters, optimizer state, random
  // state and sampler position. `total_iters` > 0 replaces the planned iteration count.
  static Trainer resume(const std::string& checkpoint, SparseMnist data,
                        std::int64_t total_iters = 0);
  static Trainer resume(const std::string& checkpoint, const Mnist& data,
                        std::int64_t total_iters = 0);
  static Trainer resume(const std::string& checkpoint, DenseData data,
                        std::int64_t total_iters = 0);

  // One iteration: draw a batch, forward, backward, update. Returns the batch's loss
  // (with the L2 penalty). Throws TrainingError naming the iteration and what diverged
  // when the loss is not finite or has grown kDivergence times over the first loss of this
  // trainer (at least 1), or when the parameters are not finite (checked at every eval_due()).
  static constexpr double kDivergence = 1e4;
  double step();
  bool done() const { return iteration_ >= total_iters_; }
  // True right after iterations 0, per_epoch, 2 per_epoch, ... (the textbook's schedule).
  bool eval_due() const { return iteration_ > 0 && (iteration_ - 1) % per_epoch_ == 0; }
  Evaluation evaluate();
  // evaluate() on a thread of its own, of a copy of the parameters taken now: training
  // can go on meanwhile (on a two-core machine the evaluations then cost the training
  // loop almost nothing), and the result is what evaluate() gives at this iteration, bit
  // for bit. The evaluation uses one thread.
  std::future<Evaluation> evaluate_in_background() const;
  // Threads for the first layer's sparse products (training and evaluation). With 2 or
  // more, the training batches are also drawn and made ready ahead on a thread of their
  // own (BatchPrefetcher); the results are the same bit for bit.
  void set_threads(int threads);

  // Writes the model and everything needed to resume (atomically; waiting for the disk
  // unless flush is Flush::fast, as for the checkpoints written during training).
  void save(const std::string& path, Flush flush = Flush::durable) const;

  std::int64_t iteration() const { return iteration_; }
  std::int64_t total_iters() const { return total_iters_; }
  void set_total_iters(std::int64_t total);
  // A new learning rate from the next step on (e.g. for a resumed run); saved with it.
  void set_learning_rate(double lr);
  std::int64_t iters_per_epoch() const { return per_epoch_; }
  const TrainConfig& config() const { return config_; }
  Sequential& model() { return net_; }

 private:
  // One of the two data sets is given.
  Trainer(TrainConfig config, std::shared_ptr<const SparseMnist> data,
          std::shared_ptr<const DenseData> dense, bool initialise);
  static Trainer resume_with(const std::string& checkpoint, std::shared_ptr<const SparseMnist> data,
                             std::shared_ptr<const DenseData> dense, std::int64_t total_iters);
  void bind_parameters();
  [[noreturn]] void diverged(const std::string& what, double data_loss, double penalty) const;
  // The name of the first parameter holding a NaN or an infinity; empty if none does.
  std::string non_finite_parameter() const;

  TrainConfig config_;
  // The data (one of the two), shared with evaluations in the background.
  std::shared_ptr<const SparseMnist> data_;
  std::shared_ptr<const DenseData> dense_;
  Rng rng_;
  Sequential net_;
  std::vector<Var> params_;
  std::vector<std::string> param_names_;  // params_'s full names (W1, b1, ...)
  std::vector<bool> penalised_;           // weights (rank >= 2) get the L2 penalty, biases not
  std::unique_ptr<Optimizer> optimizer_;
  BatchSampler sampler_;
  std::int64_t per_epoch_ = 1;
  std::int64_t total_iters_ = 0;
  std::int64_t iteration_ = 0;
  // The loss of this trainer's first step, and of its last (for divergence messages).
  double first_loss_ = 0, last_loss_ = 0;
  bool stepped_ = false;
  // Reused every step: no allocation in the steady state.
  SparseBatch batch_;           // rows drawn (into the training images)
  SparsePixels staged_pixels_;  // those rows copied together
  SparseBatch staged_;          // rows 0, 1, ... of staged_pixels_
  std::vector<std::int64_t> labels_;
  Tensor dense_batch_;  // the batch's rows of dense_->train_x
  // Batches made ahead (with set_threads(2) or more); made on the first step, from the
  // sampler's and the Rng's state then, and remade when the iteration count changes.
  bool prefetch_ = false;
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

// A trained model read back from a file written by Trainer::save.
struct LoadedModel {
  ModelSpec spec;
  Sequential net;
  std::map<std::string, std::string> metadata;
};
// Throws DataError naming the file for a damaged file, one that is not a nabla model,
// or parameters that do not fit the stored architecture.
LoadedModel load_model(const std::string& path);

}  // namespace nabla
