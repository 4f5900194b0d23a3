// nabla/train/train_data.h — what the Trainer trains on: labelled examples in a training
// and a test split, handed out batch by batch. The data side is passive: it makes batches
// and never runs the model; the Trainer calls the model.
//
//   std::shared_ptr<TrainingData> data = mnist_training_data(load_mnist_sparse(dir));
//   Trainer trainer(config, data);
//
// A model takes its input in one form (InputForm), decided once when the Trainer is
// made: sparse pixel rows for a model whose first layer is a SparseAffine (the MLPs' fast
// path) when the data has pixels, else dense tensors of the model's example shape, e.g.
// (B, 1, 28, 28), pixels / 255. Two kinds of data come with nabla:
//   * MNIST images (mnist_training_data): sparse rows or dense batches;
//   * rows of numbers (dense_training_data, e.g. a CSV file's): dense batches;
//   * token windows of a tagged corpus (tasks/ner.h's ner_training_data): int64 ids, scored
//     by entity F1 over sentences rather than by accuracy.
// Another kind of data is one more class with these few functions; the Trainer does not
// change.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/data/mnist.h"
#include "nabla/nn/layers.h"  // Targets
#include "nabla/ops/sparse.h"

NABLA_API_BEGIN
namespace nabla {

// The training examples, a validation split (for choosing: the best evaluation, early
// stopping; a data set may have none) and the test split (reported, never chosen by).
enum class Split { train, validation, test };

// The form a model takes its examples in.
enum class InputForm { dense, sparse_rows };
const char* input_form_name(InputForm form);

// Examples in one input form, and their labels (or, for a regression, their targets).
struct Batch {
  InputForm form = InputForm::dense;
  Tensor dense;        // (B, example...) when the form is dense
  SparseBatch sparse;  // when sparse_rows (the pixels are the data's)
  std::vector<std::int64_t> labels;  // class labels; empty for a regression
  Tensor targets;                    // a regression's: (B, outputs) float32; else undefined
  // For data whose examples are sequences (a tagger's sentences): the tokens of each,
  // the rows being their tokens one after another; empty when each row is an example.
  std::vector<std::int64_t> lengths;
  // What the loss layer takes: the targets when defined, else the labels (with the
  // sequences' lengths).
  Targets loss_targets() const;
};

class TrainingData {
 public:
  virtual ~TrainingData() = default;
  virtual std::int64_t size(Split split) const = 0;
  // Values in one example (784 for MNIST) and their natural shape ((1, 28, 28) for MNIST
  // images, (D) for rows).
  virtual std::int64_t features() const = 0;
  virtual Shape example_shape() const = 0;
  virtual std::int64_t classes() const = 0;
  // Whether batches can come in `form` (dense ones always can).
  virtual bool offers(InputForm form) const { return form == InputForm::dense; }
  // A split's name in this data's words: "train", "validation", "test" (NER: "dev").
  virtual std::string split_name(Split split) const;

  // What an evaluation measures ("accuracy"; NER: "entity F1") and its short form for
  // column names ("acc": train_acc; "f1").
  virtual std::string metric() const { return "accuracy"; }
  virtual std::string metric_key() const { return "acc"; }
  // Whether the examples have real-valued targets (Batch::targets, a regression's loss)
  // rather than class labels.
  virtual bool regression() const { return false; }
  // Whether a higher metric is the better one (accuracy, F1); false for an error such as
  // a regression's RMSE. The best model and early stopping go by it.
  virtual bool higher_is_better() const { return true; }
  // The metric on `split`, from the model's scores of each of the split's blocks
  // (for_each_block's, in order): predict(block) gives them. By default the fraction of
  // examples whose highest score is their label. Reads the data only (as for_each_block).
  virtual double score(Split split, InputForm form, const Shape& example,
                       const std::function<Tensor(const Batch&)>& predict) const;
  // What a model trained on this data needs to be used without it, kept in its model file
  // (NER: the vocabulary and the tag set). Keys are the data's own ("ner.tags").
  virtual std::map<std::string, std::string> model_metadata() const { return {}; }

  // The training examples `rows` as one batch in `form`, each of `example`'s shape when
  // dense. The batch is the data's and valid until the next call (its storage is reused):
  // one caller at a time.
  virtual const Batch& batch(const std::vector<std::int64_t>& rows, InputForm form,
                             const Shape& example) = 0;
  // Every example of `split`, in order, as batches of a size the data chooses: f(batch)
  // for each. Reads the data only, so it may run on another thread beside batch().
  virtual void for_each_block(Split split, InputForm form, const Shape& example,
                              const std::function<void(const Batch&)>& f) const = 0;

  // Optionally, the next `batches` batches made ahead on a thread of their own, from
  // copies of the sampler and the Rng (the batches the training loop is about to draw);
  // batch() then takes them from there, with the same results. stop_ahead() ends it.
  virtual void draw_ahead(InputForm form, const BatchSampler& sampler, const Rng& rng,
                          std::int64_t batches);
  virtual void stop_ahead() {}
};

// Labelled rows held dense, for data that are not pixels (a CSV file, nabla/csv.h):
// features (N, D) float32 and class labels in [0, classes); or, for a regression, a
// real-valued target per row (N, 1) float32, classes 1 (the one output) and no labels.
// A regression's metric is the root-mean-square error (RMSE, "rmse"), lower better.
struct DenseData {
  Tensor train_x, test_x;
  std::vector<std::int64_t> train_labels, test_labels;
  std::int64_t classes = 0;
  Tensor train_targets, test_targets;  // a regression's (N, 1); undefined otherwise
  bool regression() const { return train_targets.defined(); }
};

// A regression's errors over examples: the root-mean-square and the mean absolute error
// of the predictions against the targets (every value of every row counts once).
class RegressionErrors {
 public:
  // Adds a block's predictions and targets, both (B, K); ShapeError naming both shapes
  // for others.
  void add(const Tensor& predictions, const Tensor& targets);
  double rmse() const;  // 0 before any value
  double mae() const;
  std::int64_t count() const { return count_; }

 private:
  double squares_ = 0, absolutes_ = 0;
  std::int64_t count_ = 0;
};

// A validation split held out of the training examples: round(fraction * N) of them
// (at least 1 when fraction > 0, and at least 1 left to train on), drawn with Rng(seed).
// fraction 0: none.
struct HoldOut {
  double fraction = 0;  // in [0, 1)
  std::uint64_t seed = 0;
  // The held-out rows (sorted) and the rest, of n; ValueError for a fraction outside
  // [0, 1) or one that leaves no row on either side.
  std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> split(std::int64_t n) const;
};

// MNIST (or any square images of an IDX file) as sparse pixels; the examples' shape is
// (1, side, side) when the rows are square, else (cols).
std::shared_ptr<TrainingData> mnist_training_data(SparseMnist data, HoldOut validation = {});
std::shared_ptr<TrainingData> dense_training_data(DenseData data, HoldOut validation = {});

}  // namespace nabla
NABLA_API_END
