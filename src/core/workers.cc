#include "nabla/detail/workers.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nabla {

namespace {

void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr int kSpins = 4000;  // some tens of microseconds of pause instructions

// The workers lent to this thread's ops (ThreadScope); a context, not shared state: each
// thread sees only its own.
thread_local Workers* current = nullptr;

}  // namespace

ThreadScope::ThreadScope(Workers* workers) : previous_(current) { current = workers; }

ThreadScope::~ThreadScope() { current = previous_; }

Workers* current_workers() { return current; }

Workers::Workers(int threads) {
  int helpers = std::max(threads, 1) - 1;
  errors_.resize(static_cast<std::size_t>(helpers + 1));
  for (int p = 1; p <= helpers; ++p) helpers_.emplace_back([this, p] { helper_loop(p); });
}

Workers::~Workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

void Workers::run(const std::function<void(int, int)>& fn) {
  const int parts = size();
  if (parts == 1) {
    fn(0, 1);
    return;
  }
  for (auto& e : errors_) e = nullptr;
  job_ = &fn;
  pending_.store(parts - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  try {
    fn(0, parts);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  // Spin briefly, then yield: on a busy machine a helper may be waiting for this core.
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpins) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  job_ = nullptr;
  for (auto& e : errors_) {
    if (e) std::rethrow_exception(e);
  }
}

void Workers::helper_loop(int part) {
  std::uint64_t seen = 0;
  while (true) {
    // Spin for a moment: the next mini-batch's job usually comes soon.
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpins) {
      cpu_relax();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    try {
      (*job_)(part, size());
    } catch (...) {
      errors_[static_cast<std::size_t>(part)] = std::current_exception();
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace nabla
