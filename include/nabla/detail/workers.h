// nabla/detail/workers.h — a few threads kept for the small, frequent parallel jobs of
// training, and the scope that lends them to the ops.
//
// Creating threads for every mini-batch would cost more than the work, so a Workers
// keeps threads - 1 helpers. Between jobs a helper spins briefly (about a tenth of a
// millisecond) and then sleeps, so an idle pool costs nothing and BLAS threads are not
// fought over: nabla runs BLAS single-threaded when it uses its own workers.
//
//   Workers workers(2);
//   workers.run([&](int part, int parts) { /* rows [n * part / parts, n * (part + 1) / parts) */
//   });
//
// Threads are an execution context, never an argument of the math: whoever runs a model
// (a Sequential given set_threads, a Trainer, the k-NN classifier) opens a ThreadScope
// with its Workers, and the ops called on that thread meanwhile split their work over
// them (run_parts, run_halves). Each op splits into a number of parts fixed by the shape,
// whatever the threads, so results are the same bits with one thread or more.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

class Workers {
 public:
  explicit Workers(int threads = 1);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  int size() const { return static_cast<int>(helpers_.size()) + 1; }
  // Calls fn(part, size()) once for every part, the calling thread taking part 0, and
  // returns when all are done. Rethrows the first exception a part threw. One thread at
  // a time may call run() (a Workers belongs to one layer or one classifier).
  void run(const std::function<void(int part, int parts)>& fn);

 private:
  void helper_loop(int part);

  std::vector<std::thread> helpers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::exception_ptr> errors_;
};

// Lends `workers` to the ops run by this thread until the scope ends (null: one thread);
// scopes nest, the innermost wins. Only the thread that opened the scope sees it: a
// helper thread, or an evaluation on a thread of its own, runs its ops on one thread.
class ThreadScope {
 public:
  explicit ThreadScope(Workers* workers);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  Workers* previous_;
};
// The workers of this thread's innermost ThreadScope, or null.
Workers* current_workers();

// Workers of `threads` threads, or none for one thread.
inline std::shared_ptr<Workers> make_workers(int threads) {
  return threads > 1 ? std::make_shared<Workers>(threads) : nullptr;
}

// Calls fn(part) for each of `parts` parts, spread over the current workers' threads (in
// turn on the calling thread when there are none). A fixed number of parts, whatever the
// threads, keeps results independent of them.
inline void run_parts(int parts, const std::function<void(int)>& fn) {
  Workers* workers = current_workers();
  if (workers == nullptr || workers->size() < 2) {
    for (int p = 0; p < parts; ++p) fn(p);
    return;
  }
  workers->run([&](int part, int threads) {
    for (int p = part; p < parts; p += threads) fn(p);
  });
}

// Calls fn(begin, end) on the ranges of [0, n) in two parts, on the current workers'
// threads when there are any and n is large enough (at least kSplitAbove elements) to be
// worth waking them; else once, on [0, n).
constexpr std::int64_t kSplitAbove = std::int64_t{1} << 16;
inline void run_halves(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (current_workers() == nullptr || n < kSplitAbove) {
    fn(0, n);
    return;
  }
  run_parts(2, [&](int part) { fn(n * part / 2, n * (part + 1) / 2); });
}

// The range of part `part` of `parts` of [0, n).
inline std::pair<std::int64_t, std::int64_t> part_range(std::int64_t n, int part, int parts) {
  return {n * part / parts, n * (part + 1) / parts};
}

}  // namespace nabla
NABLA_API_END
