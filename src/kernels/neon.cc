// The neon table: simd_body.h for AArch64's Advanced SIMD (NEON), which every AArch64 CPU
// has (Apple silicon, Graviton, Ampere, Raspberry Pi 3 and later): no extra compiler flags,
// and always chosen on aarch64. 16 floats are four q registers; a tile keeps 3 chunks of 16
// (24 accumulators and the tail's, of 32 registers).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace nabla::kernels {

namespace {

#include "kernels/loops.h"
#include "kernels/neon_vectors.h"

constexpr int kMaxChunks = 3;

#include "kernels/plain_pool_copy.h"

#include "kernels/simd_body.h"

}  // namespace

const Table& neon_table() {
  static const Table table = simd_table(Isa::neon);
  return table;
}

}  // namespace nabla::kernels
