#!/usr/bin/env bash
# The main job, from a fresh machine: installs the dependencies, builds, and runs the
# textbook's worked examples and gradient check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
for example in apple apple-orange sigmoid-gate; do
  echo "== nabla example $example"
  build/nabla example "$example"
done
echo "== nabla gradcheck"
build/nabla gradcheck
