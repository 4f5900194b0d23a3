#!/usr/bin/env bash
# Builds the program of tests/consumer/ the ways a user's project would use nabla, runs it
# and checks what it prints (the README's snippet). CTest runs one mode a test:
#   run.sh package      BUILD SOURCE CXX [LAUNCHER] [WERROR]   cmake --install BUILD, find_package(nabla 0.2)
#   run.sh pkg-config   BUILD SOURCE CXX                       cmake --install BUILD, pkg-config --cflags --libs nabla
#   run.sh subdirectory BUILD SOURCE CXX [LAUNCHER] [WERROR] [PIC]   add_subdirectory(SOURCE), the library only
#   run.sh shared       BUILD SOURCE CXX [LAUNCHER] [WERROR]   SOURCE built as a shared library with the
#                                                             command, installed, moved; both run from there
# (WERROR and PIC: as BUILD's library was built, ON/OFF or 1/0)
set -euo pipefail
mode=$1 build=$2 source=$3 cxx=$4 launcher=${5:-} werror=${6:-OFF} pic=${7:-0}
work=$(mktemp -d "${TMPDIR:-/tmp}/nabla_consumer_XXXXXX")
beside=""  # subdirectory: nabla's binary directory, beside BUILD
trap 'rm -rf "$work" ${beside:+"$beside"}' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake_args=(-DCMAKE_CXX_COMPILER="$cxx")
[ -n "$launcher" ] && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")

# The program's two lines: the scalar graph's gradients, and an untrained net's loss (ln 3).
check_output() {
  local out
  out=$("$1") || fail "$1 exited with $?"
  echo "$out"
  grep -qx 'f = -12; df/dx = -4, df/dy = -4, df/dz = 3' <<<"$out" || fail "wrong gradients"
  grep -qxE 'loss 1\.(09[5-9]|10[0-2])' <<<"$out" || fail "wrong loss (want about ln 3 = 1.099)"
}

install_tree() {
  cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" || {
    cat "$work/install.log"
    fail "cmake --install"
  }
  for f in include/nabla/nabla.h include/nabla/train/train.h lib/cmake/nabla/nablaConfig.cmake \
    lib/cmake/nabla/nablaConfigVersion.cmake lib/pkgconfig/nabla.pc; do
    [ -f "$work/prefix/$f" ] || fail "not installed: $f"
  done
  # The exported interface names no path of this machine (the build tree, /usr/lib/...).
  if grep -rnE "$build|$source|/usr/lib|/usr/include" "$work/prefix/lib/cmake/nabla" \
    "$work/prefix/lib/pkgconfig/nabla.pc"; then
    fail "an absolute path in the package files"
  fi
}

case "$mode" in
package)
  install_tree
  if [ -x "$work/prefix/bin/nabla" ]; then
    version=$("$work/prefix/bin/nabla" --version) || fail "installed nabla --version: exit $?"
    grep -q '^nabla 0\.2\.' <<<"$version" || fail "installed nabla --version: $version"
  fi
  cmake -S "$source/tests/consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" "${cmake_args[@]}" -DCMAKE_COMPILE_WARNING_AS_ERROR="$werror"
  cmake --build "$work/build"
  check_output "$work/build/consumer"
  # The custom-layer example, a project of its own against the installed package.
  cmake -S "$source/examples/custom_layer" -B "$work/example" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" "${cmake_args[@]}" -DCMAKE_COMPILE_WARNING_AS_ERROR="$werror"
  cmake --build "$work/example"
  "$work/example/custom_layer" | tee "$work/example.out" || fail "examples/custom_layer exited with $?"
  grep -qx 'gradient check: ok' "$work/example.out" || fail "examples/custom_layer"
  # 0.2 asks for 0.2.x: a 0.3 request is refused (0.x minor versions may break the API).
  cat >"$work/want03.cmake" <<CMAKE
set(CMAKE_PREFIX_PATH "$work/prefix")
find_package(nabla 0.3 QUIET)
if(nabla_FOUND)
  message(FATAL_ERROR "find_package(nabla 0.3) accepted nabla \${nabla_VERSION}")
endif()
CMAKE
  cmake -P "$work/want03.cmake" || fail "version check"
  ;;
pkg-config)
  command -v pkg-config >/dev/null || { echo "no pkg-config: skipped"; exit 77; }
  install_tree
  export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
  flags=$(pkg-config --cflags --libs nabla) || fail "pkg-config --cflags --libs nabla"
  echo "pkg-config --cflags --libs nabla: $flags"
  [ "$(pkg-config --modversion nabla)" = "$(sed -n 's/^Version: //p' "$PKG_CONFIG_PATH/nabla.pc")" ]
  # shellcheck disable=SC2086  # the flags are words
  "$cxx" -O1 -o "$work/consumer" "$source/tests/consumer/main.cc" $flags
  check_output "$work/consumer"
  ;;
subdirectory)
  # A parent without a build type keeps none, and nabla's tests stay off there.
  # nabla's objects are built beside BUILD (BUILD-consumer-XXXXXX), at the same depth
  # below the source: a ccache that keys paths relative to the working directory
  # (base_dir) then finds the objects of BUILD's identical compilations.
  beside=$(mktemp -d "$build-consumer-XXXXXX")
  cmake -S "$source/tests/consumer" -B "$work/build" -DNABLA_FROM=subdirectory \
    -DNABLA_SOURCE="$source" -DNABLA_BINARY_DIR="$beside" "${cmake_args[@]}" >"$work/configure.log" ||
    { cat "$work/configure.log"; fail "configure"; }
  grep -q "consumer: CMAKE_BUILD_TYPE='' NABLA_BUILD_TESTS=OFF" "$work/configure.log" ||
    { cat "$work/configure.log"; fail "nabla changed the parent's build type or turned its tests on"; }
  # Then built as BUILD was (Release, same warnings, same -fPIC), so that ccache can reuse its
  # objects: only the library and the program.
  cmake "$work/build" -DCMAKE_BUILD_TYPE=Release -DNABLA_WERROR="$werror" \
    -DCMAKE_POSITION_INDEPENDENT_CODE="$pic" >/dev/null
  cmake --build "$work/build" -j2 --target consumer
  check_output "$work/build/consumer"
  ;;
shared)
  # nabla as a distribution packages it: -DBUILD_SHARED_LIBS=ON, the library and the command,
  # built beside BUILD (its compilations are BUILD's, for ccache) and installed.
  beside=$(mktemp -d "$build-shared-XXXXXX")
  cmake -S "$source" -B "$beside" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DNABLA_BUILD_TESTS=OFF -DNABLA_BUILD_BENCH=OFF -DNABLA_BUILD_EXAMPLES=OFF -DNABLA_PYTHON=OFF \
    -DNABLA_WERROR="$werror" "${cmake_args[@]}" >"$work/configure.log" ||
    { cat "$work/configure.log"; fail "configure"; }
  cmake --build "$beside" -j2 --target nabla nabla_cli
  build=$beside install_tree
  lib=$work/prefix/lib
  # A versioned SONAME (0.x: the minor version is the ABI's), the links to it.
  soname=$(readelf -d "$lib/libnabla.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  [ "$soname" = libnabla.so.0.2 ] || fail "SONAME '$soname', want libnabla.so.0.2"
  [ -e "$lib/libnabla.so.0.2" ] && [ -e "$lib/$(readlink "$lib/libnabla.so.0.2")" ] ||
    fail "libnabla.so.0.2 not installed"
  # The public API only: none of the libraries nabla uses (nlohmann-json's templates), none
  # of its own helpers (src/).
  symbols=$(nm -DC --defined-only "$lib/libnabla.so")
  echo "libnabla.so exports $(wc -l <<<"$symbols") symbols"
  leaked=$(grep -E 'nlohmann|cblas_|png_' <<<"$symbols" || true)
  if [ -n "$leaked" ]; then
    head -5 <<<"$leaked"
    fail "libnabla.so exports the symbols of its dependencies"
  fi
  grep -q 'nabla::Tensor::Tensor' <<<"$symbols" || fail "libnabla.so does not export nabla::Tensor"
  # Moved elsewhere, the tree still works: bin/nabla finds ../lib (RUNPATH $ORIGIN/../lib),
  # with no LD_LIBRARY_PATH.
  mv "$work/prefix" "$work/moved"
  ln -s /nonexistent "$work/prefix"  # (so that nothing can still use the old path)
  out=$(env -u LD_LIBRARY_PATH "$work/moved/bin/nabla" --version) || fail "installed nabla: exit $?"
  grep -q '^nabla 0\.2\.' <<<"$out" || fail "installed nabla --version: $out"
  used=$(ldd "$work/moved/bin/nabla" | sed -n 's/.*libnabla\.so\.0\.2 => \([^ ]*\).*/\1/p')
  [ -n "$used" ] && [ "$(realpath "$used")" = "$(realpath "$work/moved/lib/libnabla.so.0.2")" ] ||
    fail "installed nabla uses '$used', not the installed libnabla.so"
  out=$(env -u LD_LIBRARY_PATH "$work/moved/bin/nabla" example add-mul) ||
    fail "installed nabla example add-mul: exit $?"
  [ -n "$out" ] || fail "installed nabla example add-mul printed nothing"
  # A program of the user's, through find_package: linked to the shared library (with
  # Threads::Threads from nabla::nabla's interface).
  cmake -S "$source/tests/consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/moved" "${cmake_args[@]}" -DCMAKE_COMPILE_WARNING_AS_ERROR="$werror"
  cmake --build "$work/build"
  # (ldd's output captured whole: grep -q in a pipe would stop reading after the match, and
  # under pipefail the loader's SIGPIPE on its next line would fail the test at random.)
  linked=$(ldd "$work/build/consumer") || fail "ldd consumer: exit $?"
  grep -q "libnabla.so.0.2" <<<"$linked" || fail "the consumer is not linked to libnabla.so"
  check_output "$work/build/consumer"
  ;;
*) fail "unknown mode $mode" ;;
esac
