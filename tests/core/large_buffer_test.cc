// LargeAllocator: big buffers in 2 MB-aligned blocks (huge pages), small ones as usual,
// and vectors that behave like any std::vector.
#include "nabla/detail/large_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

namespace nabla {
namespace {

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(LargeBuffer, BigBuffersAreHugePageAligned) {
  ByteBuffer big(3 << 20);  // 3 MB: two whole 2 MB blocks
  EXPECT_EQ(address(big.data()) % (std::uintptr_t{2} << 20), 0u);
  big.back() = 7;  // the whole size is usable
  EXPECT_EQ(big[(3 << 20) - 1], 7);
  LargeVector<std::uint16_t> wide(std::size_t{1} << 20);  // 2 MB of uint16
  EXPECT_EQ(address(wide.data()) % (std::uintptr_t{2} << 20), 0u);
}

TEST(LargeBuffer, SmallBuffersKeepTheirTypesAlignment) {
  LargeVector<double> small(10, 1.5);
  EXPECT_EQ(address(small.data()) % alignof(double), 0u);
  EXPECT_EQ(std::accumulate(small.begin(), small.end(), 0.0), 15.0);
}

TEST(LargeBuffer, BehavesAsAVector) {
  ByteBuffer a = {1, 2, 3};
  ByteBuffer b = a;  // copy
  b.push_back(4);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b, (ByteBuffer{1, 2, 3, 4}));
  // growing past the 1 MB threshold moves the data into a huge-page block, intact
  b.resize(std::size_t{5} << 20, 9);
  EXPECT_EQ(b[3], 4);
  EXPECT_EQ(b.back(), 9);
  ByteBuffer c = std::move(b);
  EXPECT_EQ(c.size(), std::size_t{5} << 20);
  c.clear();
  c.shrink_to_fit();
  EXPECT_TRUE(c.empty());
}

}  // namespace
}  // namespace nabla
