// nabla/runtime.h — process-wide settings that make training fast, for a program that
// embeds nabla. The library never changes them by itself (no global state behind your
// back); the `nabla` command calls configure_runtime() once at start, and a program of
// yours may do the same:
//
//   int main() {
//     nabla::configure_runtime();                          // the command's settings
//     nabla::configure_runtime({.blas_threads = 1});       // ... and BLAS on one thread
//     ...
//   }
//
// Both settings belong to the process: call it from main(), before threads start.
#pragma once

#include <string>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

struct RuntimeOptions {
  // Keep freed memory for reuse (glibc malloc: mmap threshold 32 MiB, trim threshold
  // 128 MiB) instead of returning it to the system after every evaluation block; otherwise
  // each block's large tensors fault in fresh zeroed pages. No effect outside glibc.
  bool keep_freed_memory = true;
  // Threads of the BLAS matrix products (OpenBLAS); 0 leaves its own choice (all cores).
  // The training recipe's matrices are small: 1 is faster there, as BLAS threads would
  // only fight over the cores with nabla's own (`nabla train` uses 1).
  int blas_threads = 0;
};

// Applies `options` to this process. Throws ValueError for a negative blas_threads.
void configure_runtime(const RuntimeOptions& options = {});

// Threads the BLAS library uses for matrix products (OpenBLAS; its default is one per
// core).
void set_blas_threads(int threads);
int blas_threads();
// The kernels OpenBLAS chose for this CPU, as it names them (e.g. "SkylakeX", "Haswell",
// "Prescott").
std::string blas_core();

// The OPENBLAS_CORETYPE that gives this CPU faster matrix products than the kernels
// OpenBLAS chose by itself, or "" when its choice is right (or OPENBLAS_CORETYPE is set).
// OpenBLAS 0.3.21 does not know some newer CPUs and takes its oldest kernels there: on an
// Intel Xeon of family 6, model 207 (AVX-512) it runs "Prescott" kernels, at a fifth of
// the rate of its "SkylakeX" ones. The answer follows the level of nabla's own kernels
// (nabla/cpu.h: NABLA_ISA=avx2 gives "HASWELL"). OpenBLAS reads the variable once,
// when it loads, so a program sets it and starts again: the `nabla` command does.
std::string better_blas_coretype();

}  // namespace nabla
NABLA_API_END
