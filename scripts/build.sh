#!/usr/bin/env bash
# Configures and builds nabla (Release) in build/. Extra arguments go to cmake's configure.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNABLA_BUILD_TESTS=ON -DNABLA_BUILD_APPS=ON \
  -DNABLA_BUILD_BENCH=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
