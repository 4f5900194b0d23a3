// nabla/prefetch.h — training batches drawn and made ready ahead, on a thread of their own.
//
// Before the sparse first layer can multiply a batch of random images, their rows are
// copied together (so that their cache misses overlap) and sorted by column (for the
// weight gradient): about a fifth of a training step. A BatchPrefetcher does that work for
// the batches to come on the other core while the training thread works on the current
// one:
//
//   BatchPrefetcher ahead(data.train_images, data.train_labels, sampler, rng);  // copies
//   while (...) {
//     const PreparedBatch& b = ahead.next();  // waits only if the thread fell behind
//     net.gradient(b.batch, b.labels);
//   }
//
// It draws from its own copies of the sampler and the Rng, so the batches are the ones
// the loop would have drawn, in the same order, and training gives the same result bit
// for bit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/data/mnist.h"
#include "nabla/ops/sparse.h"

NABLA_API_BEGIN
namespace nabla {

struct PreparedBatch {
  std::vector<std::int64_t> drawn;  // the sampler's rows (into the data set)
  SparsePixels pixels;              // those rows, copied together
  SparseColumns columns;            // the same batch by column
  SparseBatch batch;                // rows 0, 1, ... of `pixels`, with `columns`
  std::vector<std::int64_t> labels;
};

class BatchPrefetcher {
 public:
  // Draws up to `batches` batches (fewer if it is stopped first), keeping up to `depth`
  // ready. `images` and `labels` must outlive the prefetcher.
  BatchPrefetcher(const SparsePixels& images, const ByteBuffer& labels, BatchSampler sampler,
                  Rng rng, std::int64_t batches, int depth = 16);
  // Stops the thread (batches made and not taken are dropped).
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch; it stays valid until the next call. Rethrows what the thread threw;
  // throws ValueError past the `batches` asked for.
  const PreparedBatch& next();

 private:
  void make_batches();
  void make(PreparedBatch& slot);

  const SparsePixels& images_;
  const ByteBuffer& labels_;
  BatchSampler sampler_;
  Rng rng_;
  const std::int64_t batches_;
  std::vector<PreparedBatch> ring_;
  SparseColumns sorting_;    // where batches are sorted by column, before the copy into a slot
  std::int64_t handed_ = 0;  // batches next() returned (the training thread's)
  std::atomic<std::int64_t> made_{0};   // batches ready in the ring
  std::atomic<std::int64_t> freed_{0};  // batches the training thread is done with
  // Either thread sleeps only after saying so here (under mutex_), and the other wakes it
  // only when it said so: no lock and no system call while both keep up.
  std::atomic<bool> maker_asleep_{false}, taker_asleep_{false};
  std::atomic<bool> stop_{false};  // set under mutex_
  std::exception_ptr error_;       // what the thread threw (set under mutex_)
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace nabla
NABLA_API_END
