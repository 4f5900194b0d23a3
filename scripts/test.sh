#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the dependencies, fetches MNIST
# and the GloVe vectors, builds, and runs every CTest test (unit tests, the Python
# module's included, the slower end-to-end group, and the package tests: a project using
# the installed nabla, pkg-config, add_subdirectory); then the unit tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/), and, where clang is
# installed, each fuzz harness over its checked-in corpus (build-fuzz/); and the aarch64
# cross build's kernel and core tests under QEMU (scripts/test_aarch64.sh, build-aarch64/).
# Arguments go to the first ctest run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test
if [ -x scripts/fetch_mnist.sh ]; then scripts/fetch_mnist.sh; fi
scripts/fetch_glove.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
scripts/build.sh -DNABLA_WERROR=ON "${launcher[@]}"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
# The API reference from the public headers: any Doxygen warning fails (seconds).
cmake --build build --target api_docs

# The unit tests under ASan + UBSan (the slow end-to-end group runs once, above); not the
# Python module's (an unsanitized python3 cannot load a sanitized module). GCC's
# -Wmaybe-uninitialized gives false reports inside libstdc++'s <regex> when sanitizers
# instrument it (GCC's manual warns of this), so that one warning is off in this build.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -Wno-maybe-uninitialized" \
  -DNABLA_SANITIZE=address,undefined -DNABLA_BUILD_BENCH=OFF -DNABLA_BUILD_EXAMPLES=OFF \
  -DNABLA_PYTHON=OFF \
  "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -L unit

# The aarch64 build: cross-compiled, its kernel and core unit tests (the NEON kernels
# against the scalar ones) under QEMU, in build-aarch64/ (about 5 minutes of 2 cores).
scripts/test_aarch64.sh

# The fuzz harnesses' corpora, replayed (seconds), when clang is there.
if command -v clang++ >/dev/null &&
  compgen -G "$(clang++ -print-resource-dir)/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null; then
  scripts/fuzz.sh --regress
else
  echo "test.sh: clang++ (with libclang-rt) not found: fuzz corpora not replayed"
fi
