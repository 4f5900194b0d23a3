// The Trainer's data: MNIST images (sparse rows, or dense image batches) and dense rows.
#include "nabla/train/train_data.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>

#include "nabla/ops/ops.h"
#include "nabla/train/prefetch.h"
#include "nabla/train/train.h"

namespace nabla {

void TrainingData::draw_ahead(InputForm, const BatchSampler&, const Rng&, std::int64_t) {}

std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> HoldOut::split(
    std::int64_t n) const {
  if (!(fraction >= 0 && fraction < 1)) {
    throw ValueError("validation fraction " + std::to_string(fraction) + " must be in [0, 1)");
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (fraction == 0) return {{}, order};
  const auto held = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n))));
  if (held >= n) {
    throw ValueError("a validation fraction of " + std::to_string(fraction) + " of " +
                     std::to_string(n) + " training examples leaves none to train on");
  }
  // A seeded shuffle (Fisher-Yates); its first `held` rows are held out.
  Rng rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(rng.below(i + 1))]);
  }
  std::vector<std::int64_t> out(order.begin(), order.begin() + held), kept(order.begin() + held, order.end());
  std::sort(out.begin(), out.end());
  std::sort(kept.begin(), kept.end());
  return {out, kept};
}

std::string TrainingData::split_name(Split split) const {
  return split == Split::train ? "train" : split == Split::validation ? "validation" : "test";
}

double TrainingData::score(Split split, InputForm form, const Shape& example,
                           const std::function<Tensor(const Batch&)>& predict) const {
  const std::int64_t n = size(split);
  if (n == 0) return 0;
  std::int64_t correct = 0;
  for_each_block(split, form, example, [&](const Batch& b) {
    correct += count_correct(predict(b), b.labels, "evaluate_accuracy");
  });
  return static_cast<double>(correct) / static_cast<double>(n);
}

Targets Batch::loss_targets() const {
  if (targets.defined()) return Targets(targets);
  return Targets(labels, lengths);
}

void RegressionErrors::add(const Tensor& predictions, const Tensor& targets) {
  if (predictions.rank() != 2 || predictions.shape() != targets.shape()) {
    throw ShapeError("RegressionErrors: predictions " + shape_str(predictions.shape()) +
                     " and targets " + shape_str(targets.shape()) + ", expected the same (B, K)");
  }
  for (std::int64_t k = 0; k < predictions.numel(); ++k) {
    const double e = predictions.get(k) - targets.get(k);
    squares_ += e * e;
    absolutes_ += std::abs(e);
  }
  count_ += predictions.numel();
}

double RegressionErrors::rmse() const {
  return count_ == 0 ? 0.0 : std::sqrt(squares_ / static_cast<double>(count_));
}

double RegressionErrors::mae() const {
  return count_ == 0 ? 0.0 : absolutes_ / static_cast<double>(count_);
}

const char* input_form_name(InputForm form) {
  return form == InputForm::sparse_rows ? "sparse rows" : "dense";
}

namespace {

// Examples per block when evaluating: sparse or flat rows in large blocks; images, whose
// layers' outputs are many times larger, in small ones.
std::int64_t eval_block(InputForm form, const Shape& example) {
  return form == InputForm::sparse_rows || example.size() == 1 ? 2000 : 200;
}

void check_form(const TrainingData& data, InputForm form, const char* kind) {
  if (!data.offers(form)) {
    throw ValueError(std::string(kind) + ": batches of " + input_form_name(form) +
                     " are not offered");
  }
}

// Labels of examples [begin, begin + count) into `out`.
template <class Labels>
void labels_of(const Labels& labels, std::int64_t begin, std::int64_t count,
               std::vector<std::int64_t>& out) {
  out.assign(labels.begin() + begin, labels.begin() + begin + count);
}

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
  MnistData(SparseMnist data, const HoldOut& validation) : data_(std::move(data)) {
    if (validation.fraction == 0) return;
    const auto [held, kept] = validation.split(data_.train_images.rows());
    validation_images_.assign_rows(data_.train_images, held);
    validation_labels_ = subset(data_.train_labels, held);
    SparsePixels train;
    train.assign_rows(data_.train_images, kept);
    data_.train_labels = subset(data_.train_labels, kept);
    data_.train_images = std::move(train);
  }

  std::int64_t size(Split split) const override { return images(split).rows(); }
  std::int64_t features() const override { return data_.train_images.cols(); }
  Shape example_shape() const override {
    const std::int64_t cols = features();
    const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(cols))));
    if (side * side == cols) return {1, side, side};
    return {cols};
  }
  std::int64_t classes() const override { return data_.classes; }

  bool offers(InputForm) const override { return true; }

  const Batch& batch(const std::vector<std::int64_t>& rows, InputForm form,
                     const Shape& example) override {
    batch_.form = form;
    batch_.labels.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      batch_.labels[i] = data_.train_labels[static_cast<std::size_t>(rows[i])];
    }
    if (form == InputForm::dense) {
      batch_.dense.resize(batch_shape(static_cast<std::int64_t>(rows.size()), example), DType::f32);
      densify(data_.train_images, rows, batch_.dense.data<float>());
      return batch_;
    }
    if (prefetcher_) {
      const PreparedBatch& ready = prefetcher_->next();
      if (ready.drawn != rows) {
        throw std::logic_error("MnistData: the prefetched batch is not the one drawn");
      }
      batch_.sparse = ready.batch;
      return batch_;
    }
    // Rows picked at random are first copied together: their cache misses then overlap,
    // and the products find them in the cache.
    staged_pixels_.assign_rows(data_.train_images, rows);
    batch_.sparse.pixels = &staged_pixels_;
    batch_.sparse.columns = nullptr;
    batch_.sparse.rows.resize(rows.size());
    std::iota(batch_.sparse.rows.begin(), batch_.sparse.rows.end(), 0);
    return batch_;
  }

  void for_each_block(Split split, InputForm form, const Shape& example,
                      const std::function<void(const Batch&)>& f) const override {
    const SparsePixels& pixels = images(split);
    const ByteBuffer& labels = split == Split::train        ? data_.train_labels
                               : split == Split::validation ? validation_labels_
                                                            : data_.test_labels;
    const std::int64_t block = eval_block(form, example);
    Batch b;
    b.form = form;
    std::vector<std::int64_t> rows;
    for (std::int64_t begin = 0; begin < pixels.rows(); begin += block) {
      const std::int64_t count = std::min(block, pixels.rows() - begin);
      rows.resize(static_cast<std::size_t>(count));
      std::iota(rows.begin(), rows.end(), begin);
      labels_of(labels, begin, count, b.labels);
      if (form == InputForm::sparse_rows) {
        b.sparse.pixels = &pixels;
        b.sparse.rows = rows;
      } else {
        b.dense.resize(batch_shape(count, example), DType::f32);
        densify(pixels, rows, b.dense.data<float>());
      }
      f(b);
    }
  }

  void draw_ahead(InputForm form, const BatchSampler& sampler, const Rng& rng,
                  std::int64_t batches) override {
    if (form != InputForm::sparse_rows) return;  // (dense batches are quick to make)
    prefetcher_ = std::make_unique<BatchPrefetcher>(data_.train_images, data_.train_labels, sampler,
                                                    rng, batches);
  }
  void stop_ahead() override { prefetcher_.reset(); }

 private:
  const SparsePixels& images(Split split) const {
    return split == Split::train        ? data_.train_images
           : split == Split::validation ? validation_images_
                                        : data_.test_images;
  }

  static ByteBuffer subset(const ByteBuffer& labels, const std::vector<std::int64_t>& rows) {
    ByteBuffer out(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = labels[static_cast<std::size_t>(rows[i])];
    return out;
  }

  SparseMnist data_;
  SparsePixels validation_images_;  // held out of the training images (HoldOut)
  ByteBuffer validation_labels_;
  // Reused every step: no allocation in the steady state.
  SparsePixels staged_pixels_;  // a sparse batch's rows copied together
  Batch batch_;
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

// Rows `rows` of x (N, D) float32 as a tensor (rows.size(), D).
Tensor rows_of_tensor(const Tensor& x, const std::vector<std::int64_t>& rows) {
  const std::int64_t d = x.size(1);
  Tensor out = Tensor::empty({static_cast<std::int64_t>(rows.size()), d}, DType::f32);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(x.data<float>() + rows[i] * d, d,
                out.data<float>() + static_cast<std::int64_t>(i) * d);
  }
  return out;
}

class RowData : public TrainingData {
 public:
  RowData(DenseData data, const HoldOut& validation) : data_(std::move(data)) {
    if (data_.regression()) check_targets();
    validation_x_ = Tensor({0, data_.train_x.size(1)}, DType::f32);
    if (data_.regression())
      validation_targets_ = Tensor({0, data_.train_targets.size(1)}, DType::f32);
    if (validation.fraction == 0) return;
    const auto [held, kept] = validation.split(data_.train_x.size(0));
    std::tie(validation_x_, validation_labels_) = take(held);
    if (data_.regression()) {
      validation_targets_ = rows_of_tensor(data_.train_targets, held);
      data_.train_targets = rows_of_tensor(data_.train_targets, kept);
    }
    std::tie(data_.train_x, data_.train_labels) = take(kept);
  }

  std::int64_t size(Split split) const override { return rows_of(split).size(0); }
  std::int64_t features() const override { return data_.train_x.size(1); }
  Shape example_shape() const override { return {features()}; }
  std::int64_t classes() const override { return data_.classes; }

  // A regression's metric: the RMSE over the split (lower is better).
  std::string metric() const override { return data_.regression() ? "RMSE" : "accuracy"; }
  std::string metric_key() const override { return data_.regression() ? "rmse" : "acc"; }
  bool regression() const override { return data_.regression(); }
  bool higher_is_better() const override { return !data_.regression(); }
  double score(Split split, InputForm form, const Shape& example,
               const std::function<Tensor(const Batch&)>& predict) const override {
    if (!data_.regression()) return TrainingData::score(split, form, example, predict);
    RegressionErrors errors;
    for_each_block(split, form, example,
                   [&](const Batch& b) { errors.add(predict(b), b.targets); });
    return errors.rmse();
  }

  const Batch& batch(const std::vector<std::int64_t>& rows, InputForm form,
                     const Shape& example) override {
    check_form(*this, form, "dense_training_data");
    // The batch's rows copied together, and their labels.
    const std::int64_t d = features();
    const auto b = static_cast<std::int64_t>(rows.size());
    batch_.dense.resize(batch_shape(b, example), DType::f32);
    batch_.labels.resize(rows.size());
    for (std::int64_t i = 0; i < b; ++i) {
      const std::int64_t row = rows[static_cast<std::size_t>(i)];
      std::copy_n(data_.train_x.data<float>() + row * d, d, batch_.dense.data<float>() + i * d);
      if (!data_.regression()) {
        batch_.labels[static_cast<std::size_t>(i)] =
            data_.train_labels[static_cast<std::size_t>(row)];
      }
    }
    if (data_.regression()) {
      batch_.labels.clear();
      const std::int64_t k = data_.train_targets.size(1);
      batch_.targets.resize({b, k}, DType::f32);
      for (std::int64_t i = 0; i < b; ++i) {
        std::copy_n(data_.train_targets.data<float>() + rows[static_cast<std::size_t>(i)] * k, k,
                    batch_.targets.data<float>() + i * k);
      }
    }
    return batch_;
  }

  void for_each_block(Split split, InputForm form, const Shape& example,
                      const std::function<void(const Batch&)>& f) const override {
    check_form(*this, form, "dense_training_data");
    const Tensor& x = rows_of(split);
    const std::vector<std::int64_t>& labels = split == Split::train        ? data_.train_labels
                                              : split == Split::validation ? validation_labels_
                                                                           : data_.test_labels;
    const std::int64_t n = x.size(0), d = features(), block = eval_block(form, example);
    Batch b;
    for (std::int64_t begin = 0; begin < n; begin += block) {
      const std::int64_t count = std::min(block, n - begin);
      b.dense.resize(batch_shape(count, example), DType::f32);
      std::copy_n(x.data<float>() + begin * d, count * d, b.dense.data<float>());
      if (data_.regression()) {
        const Tensor& targets = targets_of(split);
        const std::int64_t k = targets.size(1);
        b.targets.resize({count, k}, DType::f32);
        std::copy_n(targets.data<float>() + begin * k, count * k, b.targets.data<float>());
      } else {
        labels_of(labels, begin, count, b.labels);
      }
      f(b);
    }
  }

 private:
  const Tensor& rows_of(Split split) const {
    return split == Split::train        ? data_.train_x
           : split == Split::validation ? validation_x_
                                        : data_.test_x;
  }

  const Tensor& targets_of(Split split) const {
    return split == Split::train        ? data_.train_targets
           : split == Split::validation ? validation_targets_
                                        : data_.test_targets;
  }

  // A regression's targets: (N, classes) float32 rows, as many as the features'.
  void check_targets() const {
    auto check = [&](const Tensor& targets, const Tensor& x, const char* which) {
      const Shape expected{x.size(0), data_.classes};
      if (targets.dtype() != DType::f32 || targets.shape() != expected) {
        throw ShapeError(std::string("dense_training_data: ") + which + " targets " +
                         dtype_name(targets.dtype()) + " " + shape_str(targets.shape()) +
                         ", expected float32 (rows, outputs) = " + shape_str(expected));
      }
    };
    check(data_.train_targets, data_.train_x, "training");
    check(data_.test_targets, data_.test_x, "test");
  }

  // Training rows `rows` and their labels (none for a regression).
  std::pair<Tensor, std::vector<std::int64_t>> take(const std::vector<std::int64_t>& rows) const {
    std::vector<std::int64_t> labels;
    if (!data_.regression()) {
      for (std::int64_t r : rows) labels.push_back(data_.train_labels[static_cast<std::size_t>(r)]);
    }
    return {rows_of_tensor(data_.train_x, rows), std::move(labels)};
  }

  DenseData data_;
  Tensor validation_x_;  // held out of the training rows (HoldOut); (0, D) when none
  std::vector<std::int64_t> validation_labels_;
  Tensor validation_targets_;  // a regression's, held out with them
  Batch batch_;  // reused every step
};

}  // namespace

std::shared_ptr<TrainingData> mnist_training_data(SparseMnist data, HoldOut validation) {
  return std::make_shared<MnistData>(std::move(data), validation);
}

std::shared_ptr<TrainingData> dense_training_data(DenseData data, HoldOut validation) {
  return std::make_shared<RowData>(std::move(data), validation);
}

}  // namespace nabla
