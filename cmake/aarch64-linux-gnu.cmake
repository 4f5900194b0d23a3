# Cross-building nabla for 64-bit ARM Linux (aarch64) on a Debian x86-64 machine, and
# running its tests there under QEMU (scripts/test_aarch64.sh):
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake ...
# Needs g++-aarch64-linux-gnu, qemu-user, and the arm64 builds of the libraries through
# Debian's multiarch (dpkg --add-architecture arm64; libopenblas-dev:arm64, zlib1g-dev:arm64,
# libpng-dev:arm64, libgtest-dev:arm64): their files sit in /usr/lib/aarch64-linux-gnu
# beside the host's, and the header-only ones (nlohmann-json, CLI11) serve both.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# find_library and find_package look in <prefix>/lib/aarch64-linux-gnu (multiarch), never
# in the host's x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# The test binaries (and gtest_discover_tests' listing of them) run under QEMU's user
# mode. -L: the target's dynamic loader, from the cross toolchain's C library; -E: that
# same C library first, before multiarch's (/lib/aarch64-linux-gnu, the arm64 libraries'
# own dependency): the cross toolchain's loader with another build of libc.so.6 (Debian 12:
# 2.36-8cross1 and 2.36-9+deb12u14) hangs in the first pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu
    -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib)
