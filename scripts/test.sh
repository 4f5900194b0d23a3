#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the dependencies, fetches MNIST,
# builds, and runs every CTest test (unit tests and the slower end-to-end group).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
if [ -x scripts/fetch_mnist.sh ]; then scripts/fetch_mnist.sh; fi
scripts/build.sh -DNABLA_WERROR=ON
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
