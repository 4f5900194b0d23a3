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
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/safetensors.h"
#include "nabla/data/mnist.h"
#include "nabla/nn/network.h"
#include "nabla/ops/sparse.h"
#include "nabla/train/augment.h"
#include "nabla/train/communicator.h"
#include "nabla/train/model_spec.h"
#include "nabla/train/optim.h"
#include "nabla/train/prefetch.h"
#include "nabla/train/schedule.h"
#include "nabla/train/train_data.h"

NABLA_API_BEGIN
namespace nabla {

// Thrown when training goes wrong: a loss that is NaN or infinite or that grows by orders of
// magnitude over its start, or parameters that are no longer finite.
class TrainingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TrainConfig {
  ModelSpec model;
  std::int64_t iters = 10000;
  std::int64_t epochs = 0;  // if > 0, iters = epochs * iterations per epoch
  std::int64_t batch = 100;
  double lr = 0.1;
  std::string optimizer = "sgd";
  // The L2 penalty, one mechanism with two spellings, on every weight (a parameter of
  // rank 2 or more, of any layer: an affine's (D, M), a convolution's (F, C, KH, KW)) and
  // never on a bias: the loss gains lambda * sum(W^2) and each weight's gradient
  // 2 lambda W, with lambda = reg + weight_decay / 2. `reg` is CS231n's lambda (loss +
  // lambda sum W^2); `weight_decay` the textbook's weight_decay_lambda (loss +
  // 0.5 lambda sum W^2, gradient + lambda W). With the adamw optimizer, weight_decay is
  // AdamW's decoupled decay instead (p -= lr * weight_decay * p on every parameter, after
  // the gradient step; optim.h), which is not a penalty in the loss. A table whose
  // gradient is rows (an embedding's, Module::row_gradients) gets no penalty: its update
  // is lazy, touching the rows a batch used only.
  double weight_decay = 0;
  double reg = 0;
  std::uint64_t seed = 42;
  Sampling sampling = Sampling::with_replacement;
  // The fraction of the training examples held out as the validation split (HoldOut,
  // train_data.h, with Rng(seed)); kept here so that a resumed run holds out the same.
  double validation = 0;
  // The learning rate's schedule (schedule.h: constant, cosine, step:EPOCHS:FACTOR,
  // plateau:PATIENCE:FACTOR) and its linear warm-up in iterations; `lr` is the base rate.
  // plateau goes by the validation metric (Trainer::observe_validation), so it needs a
  // validation split.
  std::string lr_schedule = "constant";
  std::int64_t warmup = 0;
  // When > 0, the gradient of every parameter together is scaled down to this L2 norm
  // when longer (after the L2 penalty, before the update). A table whose gradient is rows
  // (Module::row_gradients) counts with those rows, and is stepped with them scaled.
  double clip_norm = 0;
  // Data parallelism (docs/distributed.md): each batch is cut into `shards` slices of
  // (nearly) equal size, each slice's gradient is computed on its own (a batch norm
  // normalises by the slice's statistics; a dropout draws from a stream of the slice's)
  // and the slices' gradients, weighted by their share of the batch, are added in slice
  // order. One process computes the slices one after another; with a communicator of
  // `shards` ranks (Trainer::set_communicator, mpirun -np P) rank r computes slice r, and
  // the bits are the same. A checkpoint keeps it: a run resumes with the same shards.
  std::int64_t shards = 1;
  // Augmentation of the training batches (augment.h): "" for none, or "shift:N", each
  // image moved by up to N pixels each way, drawn from a random stream of its own (seeded
  // by `seed`, kept by checkpoints), for the whole batch (with shards, each slice's rows
  // keep their shifts: the bits do not depend on the ranks). For models that take images
  // (C, H, W), and for images given flat (an MLP on MNIST, also as sparse pixel rows:
  // TrainingData::example_shape says they are images). Evaluations see the images as
  // they are.
  std::string augment;

  std::string to_json() const;
  static TrainConfig from_json(const std::string& json);
};

// The data's metric (TrainingData::metric: accuracy, or entity F1 for NER) on each split.
struct Evaluation {
  std::int64_t iteration = 0;  // iterations done when evaluated
  double train_acc = 0;
  double test_acc = 0;
  std::optional<double> validation_acc;  // when the data has a validation split
  double seconds = 0;  // how long the evaluation took (on whichever thread ran it)
};

// The fraction of `data` that `net` classifies correctly, in blocks (no copy of the
// whole set as floats).
double evaluate_accuracy(Sequential& net, const Dataset& data, std::int64_t block = 2000);
// The same with each image given to the model in the shape it takes, e.g. (1, 28, 28).
double evaluate_accuracy(Sequential& net, const Dataset& data, const Shape& example,
                         std::int64_t block);
// The same from the sparse form of the images (the first layer multiplies non-zeros only).
double evaluate_accuracy(Sequential& net, const SparsePixels& pixels, const ByteBuffer& labels,
                         std::int64_t block = 2000);

// The rows of `nabla train --data train.csv [--test-data test.csv]` (read by csv.h) as
// DenseData. Without a test file, a sixth of the training rows, drawn with Rng(seed), is
// held out as the test set. A test label beyond the training file's classes is a
// DataError naming the test file and line, as are test rows of another width.
// With CsvTask::regression the first column is a real-valued target (csv.h's
// read_valued_csv), and the data a regression's (DenseData::regression, one output).
struct CsvData {
  DenseData data;
  bool held_out = false;  // the test rows were held out of the training file
};
enum class CsvTask { classification, regression };
CsvData load_csv_data(const std::string& train_path, const std::string& test_path,
                      std::uint64_t seed, CsvTask task = CsvTask::classification);

// The fraction of the rows of x (N, D) whose label `net` predicts, in blocks.
double evaluate_accuracy(Sequential& net, const Tensor& x, const std::vector<std::int64_t>& labels,
                         std::int64_t block = 2000);
// The same with each row given to the model in the shape it takes (D values), e.g.
// (1, 28, 28).
double evaluate_accuracy(Sequential& net, const Tensor& x, const std::vector<std::int64_t>& labels,
                         const Shape& example, std::int64_t block);

// A regression's errors (RMSE and MAE) of `net`'s outputs for the rows of x (N, D)
// against targets (N, K), in blocks.
RegressionErrors evaluate_regression(Sequential& net, const Tensor& x, const Tensor& targets,
                                     std::int64_t block = 2000);

class Trainer {
 public:
  // Trains config.model on `data` (train_data.h): the model's example shape must hold the
  // data's features, its classes be the data's.
  Trainer(TrainConfig config, std::shared_ptr<TrainingData> data);
  // MNIST as sparse pixels: load_mnist_sparse(dir) reads it so, straight from the files;
  // a dense Mnist is converted (SparseMnist::from). The trainer keeps its own copy.
  // These and the DenseData form hold out config.validation of the training examples as
  // the validation split (HoldOut{config.validation, config.seed}), as do their resume().
  Trainer(TrainConfig config, SparseMnist data);
  Trainer(TrainConfig config, const Mnist& data);
  // Dense rows (any features, e.g. from CSV files): the batches are copied from them.
  Trainer(TrainConfig config, DenseData data);
  // Trains `net`, a network of config.model (build_model's, its parameters set as wanted:
  // pretrained word vectors, say). It is shared, not copied: training updates it.
  // ValueError when its parameters are not those config.model names, of their shapes.
  Trainer(TrainConfig config, std::shared_ptr<TrainingData> data, Sequential net);
  // Continues from a checkpoint written by save(): parameters, buffers, the model's random
  // streams, optimizer state, random state and sampler position. `total_iters` > 0
  // replaces the planned iteration count.
  static Trainer resume(const std::string& checkpoint, std::shared_ptr<TrainingData> data,
                        std::int64_t total_iters = 0);
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
  // Among several ranks, each predicts every P-th block of each split, every rank scores
  // the gathered predictions (the same numbers as one process alone), and the ranks'
  // state hashes are compared: a TrainingError when a replica has drifted. Collective.
  Evaluation evaluate();
  // evaluate() on a thread of its own, of a copy of the model taken now (parameters and
  // buffers): training can go on meanwhile (on a two-core machine the evaluations then
  // cost the training loop almost nothing), and the result is what evaluate() gives at
  // this iteration, bit for bit. The evaluation uses one thread.
  std::future<Evaluation> evaluate_in_background() const;
  // Threads for the first layer's sparse products (training and evaluation). With 2 or
  // more, the training batches are also drawn and made ready ahead on a thread of their
  // own (TrainingData::draw_ahead); the results are the same bit for bit.
  void set_threads(int threads);

  // The processes that share the batches (communicator.h), before the first step: with
  // more than one, config().shards must be their number (ValueError otherwise), rank r
  // computes slice r of every batch, and evaluate() is split among them. Checks that
  // every rank holds the same model, options and data (a hash of each, compared; a
  // ValueError naming the first rank that differs). Collective: every rank calls it.
  // Without it a Trainer is one process alone.
  void set_communicator(std::shared_ptr<Communicator> communicator);
  Communicator& communicator() const { return *comm_; }
  // A hash (FNV-1a, 64 bits) of the model's parameters and buffers, by name: equal on
  // every rank after every step; equal to a --shards run's.
  std::uint64_t state_hash() const;

  // Writes the model and everything needed to resume (atomically; waiting for the disk
  // unless flush is Flush::fast, as for the checkpoints written during training).
  void save(const std::string& path, Flush flush = Flush::durable) const;

  std::int64_t iteration() const { return iteration_; }
  std::int64_t total_iters() const { return total_iters_; }
  void set_total_iters(std::int64_t total);
  // A new (base) learning rate from the next step on (e.g. for a resumed run); saved
  // with it. The schedule, if any, scales it.
  void set_learning_rate(double lr);
  // The rate of the next step: the base rate as the schedule has it now.
  double learning_rate() const;
  // A validation evaluation's metric, for a plateau schedule (schedule.h's Plateau; the
  // data's higher_is_better says which way is better): run_training tells it each one
  // during training, in order; a checkpoint keeps what it has seen. Nothing for the other
  // schedules.
  void observe_validation(double metric);
  // Whether the schedule goes by the validation metric (plateau), and how many
  // evaluations it has seen (0 for the others).
  bool schedule_follows_validation() const { return schedule_.kind == LrSchedule::Kind::plateau; }
  std::int64_t validations_observed() const { return plateau_.seen(); }
  std::int64_t iters_per_epoch() const { return per_epoch_; }
  const TrainConfig& config() const { return config_; }
  Sequential& model() { return net_; }
  const TrainingData& data() const { return *data_; }
  // The L2 penalty's lambda: reg + weight_decay / 2 (weight_decay is AdamW's own with
  // adamw, see TrainConfig).
  double l2_lambda() const { return lambda_; }

 private:
  Trainer(TrainConfig config, std::shared_ptr<TrainingData> data, bool initialise);
  // resume() with the data made from the checkpoint's configuration.
  static Trainer resume_with(
      const std::string& checkpoint,
      const std::function<std::shared_ptr<TrainingData>(const TrainConfig&)>& make_data,
      std::int64_t total_iters);
  void bind_parameters();
  [[noreturn]] void diverged(const std::string& what, double data_loss, double penalty) const;
  // Scales every gradient down to config_.clip_norm when their L2 norm is longer.
  void clip_gradients();
  // The name of the first parameter holding a NaN or an infinity; empty if none does.
  std::string non_finite_parameter() const;
  // The batch's loss and gradients (in the parameters' grad(), and row_step_grads_): of
  // the whole batch, or with shards > 1 of its slices, summed (data_parallel.cc).
  double batch_gradient();
  double sliced_gradient();
  // Evaluation among several ranks (evaluation.cc).
  Evaluation evaluate_shared();

  TrainConfig config_;
  std::shared_ptr<TrainingData> data_;  // shared with evaluations in the background
  Shape example_;                       // the model's input: one example's shape
  InputForm form_ = InputForm::dense;   // and its form, decided when the model is built
  Rng rng_;
  Sequential net_;
  std::vector<Var> params_;
  std::vector<std::string> param_names_;  // params_'s full names (W1, b1, ...)
  std::vector<bool> penalised_;           // weights (rank >= 2) get the L2 penalty, biases not
  // The tables' gradients as rows (Module::row_gradients), for the optimizer's lazy step;
  // all null for a model without tables.
  std::vector<const RowGradient*> row_grads_;
  bool has_row_grads_ = false;
  // What the optimizer steps the tables with: row_grads_, or with shards > 1 the slices'
  // row gradients summed (summed_rows_, one per parameter, empty for all but tables).
  std::vector<const RowGradient*> row_step_grads_;
  std::vector<RowGradient> summed_rows_;
  std::vector<RowGradient> clipped_rows_;  // the tables' rows scaled by clip_gradients
  // Data parallelism (shards > 1, data_parallel.cc): the processes, and the step's
  // storage, reused: the slice's rows, the gradients packed in one buffer (and the sum so
  // far, in one process), the slices' row gradients, the buffers before the step.
  std::shared_ptr<Communicator> comm_ = single_process();
  std::vector<std::int64_t> slice_rows_;
  std::vector<float> packed_, summed_;
  std::vector<std::vector<RowGradient>> slice_rows_grads_;  // [slice][parameter]
  std::vector<Tensor> step_start_buffers_;
  double lambda_ = 0;
  LrSchedule schedule_;
  Plateau plateau_;  // a plateau schedule's state
  // Augmentation: the shape of the images moved, the shifts' own random stream, the
  // step's shifts (one a row of the whole batch), and the batch it makes (reused).
  Augmentation augment_;
  Shape image_;
  Rng augment_rng_;
  std::vector<PixelShift> shifts_;
  Batch augmented_;
  SparsePixels augmented_pixels_;
  // The step's shifts, drawn once a step for the whole batch (rows_).
  void draw_shifts();
  // `batch`, rows [first, first + its size) of the step's, each moved by its shift; the
  // batch itself without augmentation.
  const Batch& augmented(const Batch& batch, std::int64_t first);
  std::unique_ptr<Optimizer> optimizer_;
  BatchSampler sampler_;
  std::int64_t per_epoch_ = 1;
  std::int64_t total_iters_ = 0;
  std::int64_t iteration_ = 0;
  // The loss of this trainer's first step, and of its last (for divergence messages).
  double first_loss_ = 0, last_loss_ = 0;
  bool stepped_ = false;
  std::vector<std::int64_t> rows_;  // the batch drawn (reused every step)
  // Batches made ahead (with set_threads(2) or more); asked for on the first step, from
  // the sampler's and the Rng's state then, and again when the iteration count changes.
  bool prefetch_ = false;
  bool ahead_ = false;
};

// A trained model read back from a file written by Trainer::save.
struct LoadedModel {
  ModelSpec spec;
  Sequential net;
  std::map<std::string, std::string> metadata;
};
// Throws DataError naming the file for a damaged file, one that is not a nabla model,
// parameters that do not fit the stored architecture, or a parameter or buffer that holds
// a NaN or an infinity (named, with the element).
LoadedModel load_model(const std::string& path);

}  // namespace nabla
NABLA_API_END
