// nabla/train_data.h — what the Trainer trains on: labelled examples in a training and a
// test split, fed to a model batch by batch in the form the model takes.
//
//   std::shared_ptr<TrainingData> data = mnist_training_data(load_mnist_sparse(dir));
//   Trainer trainer(config, data);
//
// Two kinds come with nabla:
//   * MNIST images (mnist_training_data): sparse pixel rows for a model whose first layer
//     takes them (the MLPs' SparseAffine, the fast path), else dense float batches of the
//     model's example shape, e.g. (B, 1, 28, 28), pixels / 255;
//   * rows of numbers (dense_training_data, e.g. a CSV file's): dense batches of the
//     model's example shape.
// Another kind of data is one more class with these few functions; the Trainer does not
// change.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nabla/core/tensor.h"
#include "nabla/data/mnist.h"
#include "nabla/nn/network.h"
#include "nabla/ops/sparse.h"

namespace nabla {

enum class Split { train, test };

class TrainingData {
 public:
  virtual ~TrainingData() = default;
  virtual std::int64_t size(Split split) const = 0;
  // Values in one example (784 for MNIST) and their natural shape ((1, 28, 28) for MNIST
  // images, (D) for rows).
  virtual std::int64_t features() const = 0;
  virtual Shape example_shape() const = 0;
  virtual std::int64_t classes() const = 0;

  // One training step's forward and backward: the training examples `rows` as one batch of
  // `example`-shaped inputs through `net` (in training mode). Returns the batch's mean loss.
  // Keeps scratch space of its own: one caller at a time.
  virtual double gradient(Sequential& net, const Shape& example,
                          const std::vector<std::int64_t>& rows) = 0;
  // The fraction of `split` that `net` classifies correctly, in blocks. Reads the data
  // only, so it may run on another thread (with another model) beside gradient().
  virtual double accuracy(Sequential& net, const Shape& example, Split split) const = 0;

  // Optionally, the next `batches` batches made ahead on a thread of their own, from
  // copies of the sampler and the Rng (the batches the training loop is about to draw);
  // gradient() then takes them from there, with the same results. stop_ahead() ends it.
  virtual void draw_ahead(const Sequential& net, const Shape& example, const BatchSampler& sampler,
                          const Rng& rng, std::int64_t batches);
  virtual void stop_ahead() {}
};

// Labelled rows held dense, for data that are not pixels (a CSV file, nabla/csv.h):
// features (N, D) float32 and class labels in [0, classes).
struct DenseData {
  Tensor train_x, test_x;
  std::vector<std::int64_t> train_labels, test_labels;
  std::int64_t classes = 0;
};

// MNIST (or any square images of an IDX file) as sparse pixels; the examples' shape is
// (1, side, side) when the rows are square, else (cols).
std::shared_ptr<TrainingData> mnist_training_data(SparseMnist data);
std::shared_ptr<TrainingData> dense_training_data(DenseData data);

}  // namespace nabla
