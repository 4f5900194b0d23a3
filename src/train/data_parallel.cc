// Data parallelism in the one training step (TrainConfig::shards, communicator.h): the
// batch is drawn whole on every rank, cut into slices, each slice's gradient computed on
// its own, and the slices' gradients added in slice order, so that every rank applies the
// same update and one process with --shards P gives the bits of P ranks.
//
// Each slice's contribution is one buffer of float32, weighted by the slice's share of the
// batch, w = n_s / B (the loss is a mean over the slice; the weighted sum is the batch's
// mean):
//
//   [ gradients of the parameters that are not tables | the buffers (a batch norm's running
//     statistics) | the loss as two floats, hi and lo | the tables' touched rows ]
//
// The buffers are averaged the same way (each slice updates them from the step's start
// with its own batch statistics). The rows part holds, for each table, the union of the
// rows any slice touched (sorted; rank r learns the others' rows first, one all_gather),
// zero where a slice did not touch a row. A dropout draws, in slice s, from a stream
// seeded from its own stream's next number and s; its own stream moves on by one number
// per step, so checkpoints keep it as before.
#include <algorithm>
#include <cstring>
#include <string>

#include "nabla/train/train.h"

namespace nabla {

namespace {

// SplitMix64's finaliser: a well-mixed 64-bit function of x.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over bytes.
class Fnv {
 public:
  void add(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }
  void add(std::int64_t v) { add(&v, sizeof v); }
  void add(const Tensor& t) {
    add(t.raw(), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

template <class T>
void append_bytes(std::vector<std::byte>& out, const T* values, std::size_t count) {
  const auto* p = reinterpret_cast<const std::byte*>(values);
  out.insert(out.end(), p, p + count * sizeof(T));
}

std::vector<std::uint64_t> gather_hashes(Communicator& comm, std::uint64_t mine) {
  std::vector<std::byte> bytes;
  append_bytes(bytes, &mine, 1);
  std::vector<std::uint64_t> all;
  for (const std::vector<std::byte>& b : comm.all_gather(bytes)) {
    std::uint64_t h = 0;
    std::memcpy(&h, b.data(), std::min(b.size(), sizeof h));
    all.push_back(h);
  }
  return all;
}

}  // namespace

std::uint64_t Trainer::state_hash() const {
  Fnv f;
  for (const auto& [name, p] : net_.named_parameters()) {
    f.add(name);
    f.add(p.value());
  }
  for (const auto& [name, b] : net_.named_buffers()) {
    f.add(name);
    f.add(b.value());
  }
  return f.value();
}

void Trainer::set_communicator(std::shared_ptr<Communicator> communicator) {
  if (!communicator) throw ValueError("Trainer::set_communicator: no communicator given");
  const int ranks = communicator->size();
  if (ranks > 1 && ranks != config_.shards) {
    throw ValueError("the batch is cut into " + std::to_string(config_.shards) +
                     " slices (shards), but " + std::to_string(ranks) +
                     " ranks share it: each rank computes one slice, so shards must be " +
                     std::to_string(ranks));
  }
  comm_ = std::move(communicator);
  if (ranks == 1) return;
  // Every rank must start from the same state, or the replicas differ from the first step.
  Fnv f;
  f.add(config_.to_json());
  f.add(iteration_);
  f.add(total_iters_);
  f.add(rng_.state());
  f.add(sampler_.state());
  f.add(data_->size(Split::train));
  f.add(data_->size(Split::validation));
  f.add(data_->size(Split::test));
  f.add(static_cast<std::int64_t>(state_hash()));
  const std::vector<std::uint64_t> hashes = gather_hashes(*comm_, f.value());
  for (std::size_t r = 1; r < hashes.size(); ++r) {
    if (hashes[r] != hashes[0]) {
      throw ValueError("rank " + std::to_string(r) + " of " + std::to_string(ranks) +
                       " starts from another model, other options or other data than rank 0 "
                       "(a hash of each differs): give every rank the same command line and "
                       "the same files");
    }
  }
}

double Trainer::sliced_gradient() {
  const std::int64_t slices = config_.shards;
  const int ranks = comm_->size();
  const std::int64_t first = ranks == 1 ? 0 : comm_->rank();
  const std::int64_t last = ranks == 1 ? slices : first + 1;
  sampler_.next(rng_, rows_);  // the whole batch, the same on every rank
  draw_shifts();
  const auto batch_size = static_cast<std::int64_t>(rows_.size());

  NamedVars buffers = net_.named_buffers();
  auto streams = net_.named_rngs();
  std::size_t fixed = 2;  // the loss's two floats
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].value().dtype() != DType::f32) {
      throw ValueError("data parallelism (shards) trains float32 models; parameter " +
                       param_names_[i] + " is " + dtype_name(params_[i].value().dtype()));
    }
    if (row_grads_[i] == nullptr) fixed += static_cast<std::size_t>(params_[i].value().numel());
  }
  for (const auto& [name, b] : buffers) {
    if (b.value().dtype() != DType::f32) {
      throw ValueError("data parallelism (shards) trains float32 models; buffer " + name + " is " +
                       dtype_name(b.value().dtype()));
    }
    fixed += static_cast<std::size_t>(b.value().numel());
  }

  // The model's random streams: each moves on by one number, which seeds the slices'.
  std::vector<std::uint64_t> seeds;
  std::vector<Rng> moved_on;
  for (auto& [name, rng] : streams) {
    seeds.push_back(rng->engine()());
    moved_on.push_back(*rng);
  }
  step_start_buffers_.clear();
  for (const auto& [name, b] : buffers) step_start_buffers_.push_back(b.value());
  slice_rows_grads_.resize(static_cast<std::size_t>(slices));

  // Each slice of this process: its gradient, weighted, packed (and, alone, summed).
  double loss = 0;
  for (std::int64_t s = first; s < last; ++s) {
    if (s > first) {
      for (std::size_t k = 0; k < buffers.size(); ++k) {
        buffers[k].second.value() = step_start_buffers_[k];
      }
    }
    for (std::size_t k = 0; k < streams.size(); ++k) {
      *streams[k].second = Rng(mix(seeds[k] ^ mix(static_cast<std::uint64_t>(s))));
    }
    for (Var& p : params_) {
      if (p.has_grad()) p.grad().fill(0.0);
    }
    if (has_row_grads_) net_.clear_row_gradients();
    const std::int64_t begin = batch_size * s / slices, end = batch_size * (s + 1) / slices;
    const float w =
        static_cast<float>(static_cast<double>(end - begin) / static_cast<double>(batch_size));
    double slice_loss = 0;
    if (end > begin) {
      slice_rows_.assign(rows_.begin() + begin, rows_.begin() + end);
      const Batch& batch = augmented(data_->batch(slice_rows_, form_, example_), begin);
      slice_loss = form_ == InputForm::sparse_rows
                       ? net_.gradient(batch.sparse, batch.loss_targets())
                       : net_.gradient(batch.dense, batch.loss_targets());
    }
    packed_.resize(fixed);
    float* out = packed_.data();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (row_grads_[i] != nullptr) continue;
      const Tensor& g = params_[i].grad();  // (zeros if none arrived)
      const float* pg = g.data<float>();
      for (std::int64_t k = 0; k < g.numel(); ++k) *out++ = w * pg[k];
    }
    for (const auto& [name, b] : buffers) {
      const float* pb = b.value().data<float>();
      for (std::int64_t k = 0; k < b.value().numel(); ++k) *out++ = w * pb[k];
    }
    // The loss in float32 as hi + lo (the remainder): nearly a double's precision.
    const double weighted = static_cast<double>(w) * slice_loss;
    const auto hi = static_cast<float>(weighted);
    *out++ = hi;
    *out++ = static_cast<float>(weighted - static_cast<double>(hi));
    std::vector<RowGradient>& rows = slice_rows_grads_[static_cast<std::size_t>(s)];
    rows.resize(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) {
      rows[i] = row_grads_[i] != nullptr && end > begin ? *row_grads_[i] : RowGradient{};
    }
    if (ranks == 1) {
      summed_.resize(fixed);
      const float* parts[] = {s == 0 ? packed_.data() : summed_.data(), packed_.data()};
      sum_in_rank_order(std::span<const float* const>(parts, s == 0 ? 1 : 2), summed_);
    }
  }

  // The tables' rows: the union of every slice's, sorted.
  std::vector<std::vector<std::int64_t>> rows_union(params_.size());
  if (has_row_grads_) {
    std::vector<std::vector<std::vector<std::int64_t>>> lists;  // [slice][parameter]
    if (ranks == 1) {
      for (const std::vector<RowGradient>& slice : slice_rows_grads_) {
        lists.emplace_back();
        for (const RowGradient& g : slice) lists.back().push_back(g.rows);
      }
    } else {
      std::vector<std::byte> mine;
      for (const RowGradient& g : slice_rows_grads_[static_cast<std::size_t>(first)]) {
        const auto n = static_cast<std::int64_t>(g.rows.size());
        append_bytes(mine, &n, 1);
        append_bytes(mine, g.rows.data(), g.rows.size());
      }
      for (const std::vector<std::byte>& theirs : comm_->all_gather(mine)) {
        lists.emplace_back();
        std::size_t at = 0;
        for (std::size_t i = 0; i < params_.size(); ++i) {
          std::int64_t n = 0;
          std::memcpy(&n, theirs.data() + at, sizeof n);
          at += sizeof n;
          std::vector<std::int64_t> r(static_cast<std::size_t>(n));
          std::memcpy(r.data(), theirs.data() + at, r.size() * sizeof(std::int64_t));
          at += r.size() * sizeof(std::int64_t);
          lists.back().push_back(std::move(r));
        }
      }
    }
    for (const auto& slice : lists) {
      for (std::size_t i = 0; i < params_.size(); ++i) {
        rows_union[i].insert(rows_union[i].end(), slice[i].begin(), slice[i].end());
      }
    }
    for (std::vector<std::int64_t>& u : rows_union) {
      std::sort(u.begin(), u.end());
      u.erase(std::unique(u.begin(), u.end()), u.end());
    }
  }
  std::size_t row_floats = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (row_grads_[i] != nullptr) {
      row_floats += rows_union[i].size() * static_cast<std::size_t>(params_[i].value().size(1));
    }
  }
  // Slice s's rows part at `out`: w times its rows' gradients where the union has them.
  auto pack_rows = [&](std::int64_t s, float* out) {
    const std::int64_t begin = batch_size * s / slices, end = batch_size * (s + 1) / slices;
    const float w =
        static_cast<float>(static_cast<double>(end - begin) / static_cast<double>(batch_size));
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (row_grads_[i] == nullptr) continue;
      const std::vector<std::int64_t>& u = rows_union[i];
      const auto d = static_cast<std::size_t>(params_[i].value().size(1));
      std::fill(out, out + u.size() * d, 0.0f);
      const RowGradient& g = slice_rows_grads_[static_cast<std::size_t>(s)][i];
      for (std::size_t j = 0; j < g.rows.size(); ++j) {
        const auto at =
            static_cast<std::size_t>(std::lower_bound(u.begin(), u.end(), g.rows[j]) - u.begin());
        const float* v = g.values.data<float>() + j * d;
        for (std::size_t k = 0; k < d; ++k) out[at * d + k] = w * v[k];
      }
      out += u.size() * d;
    }
  };
  if (ranks == 1) {
    summed_.resize(fixed + row_floats);
    packed_.resize(row_floats);
    for (std::int64_t s = 0; s < slices; ++s) {
      pack_rows(s, packed_.data());
      float* sum = summed_.data() + fixed;
      const float* parts[] = {s == 0 ? packed_.data() : sum, packed_.data()};
      sum_in_rank_order(std::span<const float* const>(parts, s == 0 ? 1 : 2),
                        std::span<float>(sum, row_floats));
    }
  } else {
    packed_.resize(fixed + row_floats);
    pack_rows(first, packed_.data() + fixed);
    comm_->sum(packed_);
    summed_.swap(packed_);
  }

  // The sums back where the step reads them: gradients, buffers, loss, the tables' rows.
  const float* in = summed_.data();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (row_grads_[i] != nullptr) continue;
    Tensor& g = params_[i].grad();
    std::copy_n(in, g.numel(), g.data<float>());
    in += g.numel();
  }
  for (auto& [name, b] : buffers) {
    std::copy_n(in, b.value().numel(), b.value().data<float>());
    in += b.value().numel();
  }
  loss = static_cast<double>(in[0]) + static_cast<double>(in[1]);
  in += 2;
  summed_rows_.resize(params_.size());
  row_step_grads_.assign(params_.size(), nullptr);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (row_grads_[i] == nullptr) continue;
    RowGradient& g = summed_rows_[i];
    g.rows = rows_union[i];
    const std::int64_t d = params_[i].value().size(1);
    g.values.resize({static_cast<std::int64_t>(g.rows.size()), d}, DType::f32);
    std::copy_n(in, g.values.numel(), g.values.data<float>());
    in += g.values.numel();
    row_step_grads_[i] = &g;
  }
  for (std::size_t k = 0; k < streams.size(); ++k) *streams[k].second = moved_on[k];
  return loss;
}

}  // namespace nabla
