// Accuracy of a model on a data set, and the Trainer's evaluations (on its thread or on
// one of their own).
#include <algorithm>
#include <chrono>
#include <cstring>
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

RegressionErrors evaluate_regression(Sequential& net, const Tensor& x, const Tensor& targets,
                                     std::int64_t block) {
  if (x.rank() != 2 || targets.rank() != 2 || targets.size(0) != x.size(0)) {
    throw ShapeError("evaluate_regression: rows " + shape_str(x.shape()) + " and targets " +
                     shape_str(targets.shape()) + ", expected (N, D) and (N, K)");
  }
  RegressionErrors errors;
  const std::int64_t n = x.size(0), d = x.size(1), k = targets.size(1);
  Tensor rows, want;
  for (std::int64_t begin = 0; begin < n; begin += block) {
    const std::int64_t count = std::min(block, n - begin);
    rows.resize({count, d}, x.dtype());
    want.resize({count, k}, targets.dtype());
    visit_dtype(x.dtype(), [&](auto type) {
      using T = decltype(type);
      std::copy_n(x.data<T>() + begin * d, count * d, rows.data<T>());
    });
    visit_dtype(targets.dtype(), [&](auto type) {
      using T = decltype(type);
      std::copy_n(targets.data<T>() + begin * k, count * k, want.data<T>());
    });
    errors.add(net.predict(rows), want);
  }
  return errors;
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

// ---- evaluation among several ranks -----------------------------------------------------

namespace {

// A tensor as bytes (dtype, rank, dims, values) appended to `out`, and read back from `in`
// at `at`.
void append_tensor(std::vector<std::byte>& out, const Tensor& t) {
  std::vector<std::int64_t> head = {static_cast<std::int64_t>(t.dtype()),
                                    static_cast<std::int64_t>(t.rank())};
  head.insert(head.end(), t.shape().begin(), t.shape().end());
  const auto* h = reinterpret_cast<const std::byte*>(head.data());
  out.insert(out.end(), h, h + head.size() * sizeof(std::int64_t));
  const auto* v = static_cast<const std::byte*>(t.raw());
  out.insert(out.end(), v, v + static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
}

Tensor read_tensor(const std::vector<std::byte>& in, std::size_t& at) {
  auto next = [&] {
    std::int64_t v = 0;
    if (at + sizeof v > in.size()) throw std::logic_error("evaluation: a rank's scores end early");
    std::memcpy(&v, in.data() + at, sizeof v);
    at += sizeof v;
    return v;
  };
  const auto dtype = static_cast<DType>(next());
  Shape shape(static_cast<std::size_t>(next()));
  for (std::int64_t& d : shape) d = next();
  Tensor t = Tensor::empty(shape, dtype);
  const std::size_t bytes = static_cast<std::size_t>(t.numel()) * dtype_size(dtype);
  if (at + bytes > in.size()) throw std::logic_error("evaluation: a rank's scores end early");
  std::memcpy(t.raw(), in.data() + at, bytes);
  at += bytes;
  return t;
}

// The data's metric on `split` among the ranks: rank r predicts blocks r, r + P, ... of
// for_each_block; every rank gets every block's scores and scores them in order (as
// TrainingData::score asks them), so each computes the number one process would.
double shared_split_score(Sequential& net, const TrainingData& data, Split split, InputForm form,
                          const Shape& example, Communicator& comm) {
  const int ranks = comm.size(), rank = comm.rank();
  std::vector<std::byte> mine;
  std::int64_t block = 0;
  data.for_each_block(split, form, example, [&](const Batch& b) {
    if (block++ % ranks != rank) return;
    append_tensor(mine,
                  form == InputForm::sparse_rows ? net.predict(b.sparse) : net.predict(b.dense));
  });
  const std::vector<std::vector<std::byte>> all = comm.all_gather(mine);
  std::vector<std::size_t> at(all.size(), 0);
  block = 0;
  return data.score(split, form, example, [&](const Batch&) {
    const auto owner = static_cast<std::size_t>(block++ % ranks);
    return read_tensor(all[owner], at[owner]);
  });
}

}  // namespace

Evaluation Trainer::evaluate() {
  if (comm_->size() > 1) return evaluate_shared();
  return evaluate_model(net_, iteration_, *data_, form_, example_);
}

Evaluation Trainer::evaluate_shared() {
  const auto start = std::chrono::steady_clock::now();
  // The replicas first: the same parameters and buffers on every rank, or training stops.
  Communicator& comm = *comm_;
  const std::uint64_t mine = state_hash();
  std::vector<std::byte> bytes(sizeof mine);
  std::memcpy(bytes.data(), &mine, sizeof mine);
  const std::vector<std::vector<std::byte>> hashes = comm.all_gather(bytes);
  for (std::size_t r = 0; r < hashes.size(); ++r) {
    if (hashes[r] != hashes[0]) {
      throw TrainingError("iteration " + std::to_string(iteration_) + ": the model of rank " +
                          std::to_string(r) + " differs from rank 0's (their state hashes " +
                          "differ): the replicas have drifted; training stopped");
    }
  }
  Evaluation e;
  e.iteration = iteration_;
  e.train_acc = shared_split_score(net_, *data_, Split::train, form_, example_, comm);
  if (data_->size(Split::validation) > 0) {
    e.validation_acc = shared_split_score(net_, *data_, Split::validation, form_, example_, comm);
  }
  e.test_acc = shared_split_score(net_, *data_, Split::test, form_, example_, comm);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

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
