// The Trainer's data: MNIST images (sparse rows, or dense image batches) and dense rows.
#include "nabla/train/train_data.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "accuracy_in_blocks.h"
#include "nabla/ops/ops.h"
#include "nabla/train/prefetch.h"
#include "nabla/train/train.h"

namespace nabla {

void TrainingData::draw_ahead(const Sequential&, const Shape&, const BatchSampler&, const Rng&,
                              std::int64_t) {}

namespace {

// Examples per block when evaluating: flat rows in large blocks; images, whose layers'
// outputs are many times larger, in small ones.
std::int64_t eval_block(const Shape& example) { return example.size() == 1 ? 2000 : 200; }

// (count, example...) for a batch of `count`.
Shape batch_shape(std::int64_t count, const Shape& example) {
  Shape shape{count};
  shape.insert(shape.end(), example.begin(), example.end());
  return shape;
}

// Rows `rows` of sparse pixels as dense values (pixel * scale) in `out`, which has
// rows.size() * cols floats.
void densify(const SparsePixels& pixels, const std::vector<std::int64_t>& rows, float* out) {
  const std::int64_t cols = pixels.cols();
  std::fill(out, out + static_cast<std::int64_t>(rows.size()) * cols, 0.0f);
  const float scale = pixels.scale();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    float* row = out + static_cast<std::int64_t>(i) * cols;
    for (std::int64_t e = pixels.row_begin(rows[i]); e < pixels.row_begin(rows[i] + 1); ++e) {
      row[pixels.index()[e]] = static_cast<float>(pixels.value()[e]) * scale;
    }
  }
}

class MnistData : public TrainingData {
 public:
  explicit MnistData(SparseMnist data) : data_(std::move(data)) {}

  std::int64_t size(Split split) const override { return images(split).rows(); }
  std::int64_t features() const override { return data_.train_images.cols(); }
  Shape example_shape() const override {
    const std::int64_t cols = features();
    const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(cols))));
    if (side * side == cols) return {1, side, side};
    return {cols};
  }
  std::int64_t classes() const override { return data_.classes; }

  double gradient(Sequential& net, const Shape& example,
                  const std::vector<std::int64_t>& rows) override {
    labels_.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      labels_[i] = data_.train_labels[static_cast<std::size_t>(rows[i])];
    }
    if (!sparse_path(net, example)) {
      batch_.resize(batch_shape(static_cast<std::int64_t>(rows.size()), example), DType::f32);
      densify(data_.train_images, rows, batch_.data<float>());
      return net.gradient(batch_, labels_);
    }
    if (prefetcher_) {
      const PreparedBatch& ready = prefetcher_->next();
      if (ready.drawn != rows) {
        throw std::logic_error("MnistData: the prefetched batch is not the one drawn");
      }
      return net.gradient(ready.batch, ready.labels);
    }
    // Rows picked at random are first copied together: their cache misses then overlap,
    // and the products find them in the cache.
    staged_pixels_.assign_rows(data_.train_images, rows);
    staged_.pixels = &staged_pixels_;
    staged_.rows.resize(rows.size());
    std::iota(staged_.rows.begin(), staged_.rows.end(), 0);
    return net.gradient(staged_, labels_);
  }

  double accuracy(Sequential& net, const Shape& example, Split split) const override {
    const SparsePixels& pixels = images(split);
    const ByteBuffer& labels = split == Split::train ? data_.train_labels : data_.test_labels;
    if (sparse_path(net, example)) return evaluate_accuracy(net, pixels, labels);
    std::vector<std::int64_t> rows;
    Tensor x;
    return accuracy_in_blocks(
        pixels.rows(), eval_block(example),
        [&](std::int64_t begin, std::int64_t count) {
          rows.resize(static_cast<std::size_t>(count));
          std::iota(rows.begin(), rows.end(), begin);
          x.resize(batch_shape(count, example), DType::f32);
          densify(pixels, rows, x.data<float>());
          return net.predict(x);
        },
        labels);
  }

  void draw_ahead(const Sequential& net, const Shape& example, const BatchSampler& sampler,
                  const Rng& rng, std::int64_t batches) override {
    if (!sparse_path(net, example)) return;  // (dense batches are quick to make)
    prefetcher_ = std::make_unique<BatchPrefetcher>(data_.train_images, data_.train_labels, sampler,
                                                    rng, batches);
  }
  void stop_ahead() override { prefetcher_.reset(); }

 private:
  // The model takes the pixels as sparse rows (its first layer is a SparseAffine).
  static bool sparse_path(const Sequential& net, const Shape& example) {
    return net.takes_sparse_rows() && example.size() == 1;
  }
  const SparsePixels& images(Split split) const {
    return split == Split::train ? data_.train_images : data_.test_images;
  }

  SparseMnist data_;
  // Reused every step: no allocation in the steady state.
  SparsePixels staged_pixels_;  // the batch's rows copied together
  SparseBatch staged_;          // rows 0, 1, ... of staged_pixels_
  std::vector<std::int64_t> labels_;
  Tensor batch_;  // dense batches
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

class RowData : public TrainingData {
 public:
  explicit RowData(DenseData data) : data_(std::move(data)) {}

  std::int64_t size(Split split) const override { return rows_of(split).size(0); }
  std::int64_t features() const override { return data_.train_x.size(1); }
  Shape example_shape() const override { return {features()}; }
  std::int64_t classes() const override { return data_.classes; }

  double gradient(Sequential& net, const Shape& example,
                  const std::vector<std::int64_t>& rows) override {
    // The batch's rows copied together, and their labels.
    const std::int64_t d = features();
    const auto b = static_cast<std::int64_t>(rows.size());
    batch_.resize(batch_shape(b, example), DType::f32);
    labels_.resize(rows.size());
    for (std::int64_t i = 0; i < b; ++i) {
      const std::int64_t row = rows[static_cast<std::size_t>(i)];
      std::copy_n(data_.train_x.data<float>() + row * d, d, batch_.data<float>() + i * d);
      labels_[static_cast<std::size_t>(i)] = data_.train_labels[static_cast<std::size_t>(row)];
    }
    return net.gradient(batch_, labels_);
  }

  double accuracy(Sequential& net, const Shape& example, Split split) const override {
    const Tensor& x = rows_of(split);
    const std::vector<std::int64_t>& labels =
        split == Split::train ? data_.train_labels : data_.test_labels;
    return evaluate_accuracy(net, x, labels, example, eval_block(example));
  }

 private:
  const Tensor& rows_of(Split split) const {
    return split == Split::train ? data_.train_x : data_.test_x;
  }

  DenseData data_;
  Tensor batch_;
  std::vector<std::int64_t> labels_;
};

}  // namespace

std::shared_ptr<TrainingData> mnist_training_data(SparseMnist data) {
  return std::make_shared<MnistData>(std::move(data));
}

std::shared_ptr<TrainingData> dense_training_data(DenseData data) {
  return std::make_shared<RowData>(std::move(data));
}

}  // namespace nabla
