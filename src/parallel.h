// Private: split a range of work over a few threads (the machine has 2 cores; the
// threads are created per call, so nothing spins between calls).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace nabla {

// Calls fn(begin, end) on `threads` contiguous parts of [0, n); rethrows the first
// exception a part threw.
template <class F>
void parallel_for(int threads, std::int64_t n, F fn) {
  int parts = static_cast<int>(std::clamp<std::int64_t>(threads, 1, std::max<std::int64_t>(n, 1)));
  if (parts == 1) {
    fn(std::int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(parts));
  for (int p = 0; p < parts; ++p) {
    std::int64_t begin = n * p / parts, end = n * (p + 1) / parts;
    pool.emplace_back([&, p, begin, end] {
      try {
        fn(begin, end);
      } catch (...) {
        errors[static_cast<std::size_t>(p)] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace nabla
