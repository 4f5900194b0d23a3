// Accuracy of a model on a data set, and the Trainer's evaluations (on its thread or on
// one of their own).
#include <algorithm>
#include <chrono>
#include <numeric>

#include "nabla/train/train.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "accuracy_in_blocks.h"
#include "nabla/ops/ops.h"

namespace nabla {

// ---- evaluation -----------------------------------------------------------------------

double evaluate_accuracy(Sequential& net, const Dataset& data, std::int64_t block) {
  return evaluate_accuracy(net, data, Shape{data.features}, block);
}

double evaluate_accuracy(Sequential& net, const Dataset& data, const Shape& example,
                         std::int64_t block) {
  const DType dtype = net.parameters().front().dtype();
  return accuracy_in_blocks(
      data.size, block,
      [&](std::int64_t begin, std::int64_t count) {
        Shape shape{count};
        shape.insert(shape.end(), example.begin(), example.end());
        return net.predict(images_as_tensor(data, begin, count, dtype).reshape(shape));
      },
      data.labels);
}

double evaluate_accuracy(Sequential& net, const SparsePixels& pixels, const ByteBuffer& labels,
                         std::int64_t block) {
  SparseBatch batch{&pixels, {}};
  return accuracy_in_blocks(
      pixels.rows(), block,
      [&](std::int64_t begin, std::int64_t count) {
        batch.rows.resize(static_cast<std::size_t>(count));
        std::iota(batch.rows.begin(), batch.rows.end(), begin);
        return net.predict(batch);
      },
      labels);
}

double evaluate_accuracy(Sequential& net, const Tensor& x, const std::vector<std::int64_t>& labels,
                         std::int64_t block) {
  const std::int64_t d = x.numel() / std::max<std::int64_t>(x.size(0), 1);
  return evaluate_accuracy(net, x, labels, Shape{d}, block);
}

double evaluate_accuracy(Sequential& net, const Tensor& x, const std::vector<std::int64_t>& labels,
                         const Shape& example, std::int64_t block) {
  const std::int64_t n = x.size(0), d = x.numel() / std::max<std::int64_t>(n, 1);
  Tensor rows;
  return accuracy_in_blocks(
      n, block,
      [&](std::int64_t begin, std::int64_t count) {
        Shape shape{count};
        shape.insert(shape.end(), example.begin(), example.end());
        rows.resize(shape, x.dtype());
        visit_dtype(x.dtype(), [&](auto type) {
          using T = decltype(type);
          std::copy_n(x.data<T>() + begin * d, count * d, rows.data<T>());
        });
        return net.predict(rows);
      },
      labels);
}

namespace {

// The data's metric on `split`.
double split_score(Sequential& net, const TrainingData& data, Split split, InputForm form,
                   const Shape& example) {
  return data.score(split, form, example, [&](const Batch& b) {
    return form == InputForm::sparse_rows ? net.predict(b.sparse) : net.predict(b.dense);
  });
}

// The metric on the training split, the validation split (if the data has one) and the
// test split.
Evaluation evaluate_model(Sequential& net, std::int64_t iteration, const TrainingData& data,
                          InputForm form, const Shape& example) {
  const auto start = std::chrono::steady_clock::now();
  Evaluation e;
  e.iteration = iteration;
  e.train_acc = split_score(net, data, Split::train, form, example);
  if (data.size(Split::validation) > 0) {
    e.validation_acc = split_score(net, data, Split::validation, form, example);
  }
  e.test_acc = split_score(net, data, Split::test, form, example);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

}  // namespace

Evaluation Trainer::evaluate() { return evaluate_model(net_, iteration_, *data_, form_, example_); }

namespace {

// Lowers the calling thread's priority to the least (nice 19), so that the threads
// training needs at once (the prefetcher's, when it wakes) take the core from it at
// once instead of waiting out its time slice. A thread's own nice value on Linux; where
// that is not available, nothing.
void give_way_to_training() {
#if defined(__linux__)
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  (void)setpriority(PRIO_PROCESS, tid, 19);  // (not being able to is harmless)
#endif
}

}  // namespace

std::future<Evaluation> Trainer::evaluate_in_background() const {
  // A copy of the model: parameters and buffers of its own, taken now (one thread).
  std::shared_ptr<Sequential> copy = clone_of(net_);
  return std::async(std::launch::async,
                    [copy, data = data_, form = form_, example = example_, iteration = iteration_] {
                      give_way_to_training();
                      return evaluate_model(*copy, iteration, *data, form, example);
                    });
}

}  // namespace nabla
