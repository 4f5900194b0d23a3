// Which table runs: the best this CPU supports (on x86-64 CPUID, through
// __builtin_cpu_supports; on aarch64 NEON, which every AArch64 CPU has), or the level
// NABLA_ISA asks for. Chosen once, on first use.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/kernels.h"
#include "nabla/core/cpu.h"
#include "nabla/core/tensor.h"

namespace nabla::kernels {

namespace {

bool cpu_runs(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(NABLA_KERNELS_X86)
    case Isa::avx2:
      // (each also checks that the OS saves the registers, XGETBV)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("popcnt");
    case Isa::avx512:
      return cpu_runs(Isa::avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vbmi2");
#endif
#if defined(NABLA_KERNELS_NEON)
    case Isa::neon:
      return true;  // (Advanced SIMD is part of ARMv8-A; Linux requires it on AArch64)
#endif
    default:
      return false;
  }
}

const Table* built_table(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return &scalar_table();
#if defined(NABLA_KERNELS_X86)
    case Isa::avx2:
      return &avx2_table();
    case Isa::avx512:
      return &avx512_table();
#endif
#if defined(NABLA_KERNELS_NEON)
    case Isa::neon:
      return &neon_table();
#endif
    default:
      return nullptr;
  }
}

// Each processor's levels, better ones later (a build has one processor's only).
constexpr Isa kLevels[] = {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon};

Isa best_isa() {
  Isa best = Isa::scalar;
  for (Isa isa : kLevels) {
    if (table_for(isa) != nullptr) best = isa;
  }
  return best;
}

const Table& choose() {
  const Isa best = best_isa();
  const char* env = std::getenv("NABLA_ISA");
  if (env == nullptr || *env == '\0') return *built_table(best);
  const std::string asked = env;
  for (Isa isa : kLevels) {
    if (asked != isa_name(isa)) continue;
    if (table_for(isa) == nullptr) {
      std::fprintf(stderr, "nabla: NABLA_ISA=%s, but this CPU (or build) cannot run it; using %s\n",
                   env, isa_name(best));
      return *built_table(best);
    }
    return *built_table(isa);
  }
  throw ValueError("NABLA_ISA='" + asked +
                   "': no such level (use scalar, avx2, avx512 or neon)");
}

}  // namespace

const char* isa_name(Isa isa) {
  static constexpr const char* kNames[] = {"scalar", "avx2", "avx512", "neon"};  // Isa's values
  return kNames[static_cast<int>(isa)];
}

const Table& active() {
  static const Table& table = choose();
  return table;
}

const Table* table_for(Isa isa) { return cpu_runs(isa) ? built_table(isa) : nullptr; }

std::vector<Isa> runnable_isas() {
  std::vector<Isa> levels;
  for (Isa isa : kLevels) {
    if (table_for(isa) != nullptr) levels.push_back(isa);
  }
  return levels;
}

}  // namespace nabla::kernels

namespace nabla {

std::string kernel_isa() { return kernels::isa_name(kernels::active().isa); }

}  // namespace nabla
