#!/usr/bin/env bash
# The main job, from a fresh machine: installs the dependencies, fetches MNIST, builds,
# and trains the textbook's reference network (TwoLayerNet 784-50-10, 10,000 SGD steps
# of batch 100, lr 0.1) with an evaluation once per epoch. The run directory (metrics.csv,
# curves.svg, model.safetensors) is runs/<date-time>/ unless --out says otherwise; any
# arguments go to `nabla train`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/fetch_mnist.sh
scripts/build.sh
build/nabla train "$@"
