#!/usr/bin/env bash
# The aarch64 build, cross-compiled on an x86-64 Debian machine and tested under QEMU: the
# library (its NEON kernels), the nabla command and the unit tests, built with
# g++-aarch64-linux-gnu against the arm64 libraries (cmake/aarch64-linux-gnu.cmake;
# scripts/install_deps.sh --test installs them), in build-aarch64/; then unit tests run under
# qemu-aarch64 (the toolchain file's emulator, which ctest puts before each test binary).
#
#   scripts/test_aarch64.sh          the kernel and core tests (tests/core: the NEON table
#                                    against the scalar one, tensors, files, the runtime)
#                                    and `nabla --version` (what CI runs)
#   scripts/test_aarch64.sh --all    every unit test (builds them all)
# Further arguments go to ctest. No benchmarks, examples or Python module in this build.
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
if [[ "${1:-}" == "--all" ]]; then
  all=1
  shift
fi
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DNABLA_WERROR=ON -DNABLA_BUILD_TESTS=ON -DNABLA_BUILD_APPS=ON \
  -DNABLA_BUILD_BENCH=OFF -DNABLA_BUILD_EXAMPLES=OFF -DNABLA_PYTHON=OFF -DNABLA_INSTALL=OFF \
  -DNABLA_MPI=OFF -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON "${launcher[@]}" >/dev/null
core_tests=(kernels_test tensor_test large_buffer_test safetensors_test runtime_test)
if ((all)); then
  cmake --build build-aarch64 -j"$(nproc)"
  selection=(-L unit)
else
  cmake --build build-aarch64 -j"$(nproc)" --target nabla_cli "${core_tests[@]}"
  selection=(-L unit -R "^($(IFS='|'; echo "${core_tests[*]}"))\\.")
fi
# (qemu-aarch64 runs aarch64 binaries only)
# (the toolchain file's emulator)
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib)
version=$("${qemu[@]}" build-aarch64/nabla --version)
echo "$version"
[[ "$version" == *"kernels neon"* ]] || {
  echo "test_aarch64.sh: the aarch64 build does not run its NEON kernels" >&2
  exit 1
}
ctest --test-dir build-aarch64 --output-on-failure -j"$(nproc)" "${selection[@]}" "$@"
