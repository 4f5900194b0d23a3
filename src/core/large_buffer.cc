#include "nabla/detail/large_buffer.h"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace nabla {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kLarge = std::size_t{1} << 20;

}  // namespace

void* allocate_large(std::size_t bytes, std::size_t align) {
  if (bytes < kLarge) return ::operator new (bytes, std::align_val_t{align});
  const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}

void deallocate_large(void* p, std::size_t bytes, std::size_t align) noexcept {
  if (bytes < kLarge) {
    ::operator delete (p, std::align_val_t{align});
  } else {
    std::free(p);
  }
}

}  // namespace nabla
