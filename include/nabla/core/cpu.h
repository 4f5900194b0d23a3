// nabla/cpu.h — which instruction set the library's kernels run on.
//
// The library is built for any x86-64 or aarch64 CPU; its SIMD kernels exist for several
// levels (x86-64: AVX2, AVX-512; aarch64: NEON) and the best one this CPU runs is chosen
// at run time. The environment variable NABLA_ISA=scalar|avx2|avx512|neon asks for a
// lower level (for tests and benchmarks); one this CPU or build cannot run is replaced by
// the best it runs, with a warning on stderr.
// Results are bit-for-bit the same from run to run on one level, not across levels.
#pragma once

#include <string>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

// The level in use: "scalar", "avx2", "avx512" or "neon". Throws ValueError when NABLA_ISA names
// no level.
std::string kernel_isa();

}  // namespace nabla
NABLA_API_END
