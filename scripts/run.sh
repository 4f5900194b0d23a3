#!/usr/bin/env bash
# The main job, from a fresh machine: installs the dependencies, fetches MNIST, builds,
# checks the gradients on real images, trains the textbook's reference network
# (TwoLayerNet, 10,000 iterations of batch 100, SGD lr 0.1) and reports its accuracy.
#
#   scripts/run.sh [RUN_DIR]     RUN_DIR defaults to runs/textbook
#
# MNIST goes to $NABLA_DATA if set, else data/mnist (scripts/fetch_mnist.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir="${1:-runs/textbook}"
scripts/install_deps.sh
scripts/fetch_mnist.sh
scripts/build.sh
for example in apple apple-orange sigmoid-gate; do
  echo "== nabla example $example"
  build/nabla example "$example"
done
echo "== nabla gradcheck (three MNIST training images, as the textbook)"
build/nabla gradcheck --data "${NABLA_DATA:-data/mnist}"
echo "== nabla train (the textbook recipe) into $run_dir"
build/nabla train --out "$run_dir"
echo "== nabla eval"
build/nabla eval --model "$run_dir/model.safetensors"
echo "The loss and accuracy curves: $run_dir/curves.svg (open it in a browser)"
