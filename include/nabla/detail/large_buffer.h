// nabla/detail/large_buffer.h — storage for big buffers (data sets, sparse pixels) in huge pages.
//
// Filling fresh memory costs a page fault per 4 KB page, and in a virtual machine each
// fault costs about 10 µs: the 55 MB of MNIST in 4 KB pages would be 13,000 of them.
// LargeAllocator gives a buffer of 1 MB or more whole 2 MB-aligned blocks and asks the
// kernel to back them with 2 MB pages (transparent huge pages in "madvise" mode, Debian's
// default; harmless where unsupported), so that the same buffer faults in a few dozen
// times. Smaller buffers come from operator new as usual.
//
// resize() leaves new elements default-initialized, as `new T[n]` does: for the integer
// types of pixels and indices that is no write at all, so a buffer sized up front and
// then filled touches each page once, by the code that fills it (on whichever thread).
// (Fresh memory is expensive here: the first touch of a 2 MB page costs about 2.4 ms in
// this virtual machine.) resize(n, value) and the other constructors fill as usual.
//
//   ByteBuffer pixels(60000 * 784);   // a std::vector<std::uint8_t> in huge pages
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

// bytes of memory: in 2 MB-aligned huge-page blocks from 1 MB on, else from operator new
// (aligned for `align`). Throws std::bad_alloc.
void* allocate_large(std::size_t bytes, std::size_t align);
// Frees what allocate_large(bytes, align) returned.
void deallocate_large(void* p, std::size_t bytes, std::size_t align) noexcept;

template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}  // NOLINT: converting, as allocators are

  T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_large(p, n * sizeof(T), alignof(T)); }

  // Default-initialization for resize(n) and vector(n); any other construction as given.
  template <class U>
  void construct(U* p) noexcept(noexcept(U())) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  template <class U>
  bool operator==(const LargeAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using LargeVector = std::vector<T, LargeAllocator<T>>;
using ByteBuffer = LargeVector<std::uint8_t>;

}  // namespace nabla
NABLA_API_END
