#!/usr/bin/env bash
# The exported models predict in PyTorch what they predict in nabla on the whole MNIST
# test set: an MLP and a SimpleConvNet, trained briefly, exported with `nabla export
# --format torch`, and each of the 10,000 test images classified by `nabla predict` and
# by the torch.nn.Sequential (tests/interop/torch_export_check.py): the same argmax on
# every image. CTest label slow; exit 77 (skipped) without MNIST or python3-torch.
#   torch_export_mnist.sh NABLA [MNIST_DIR]
set -euo pipefail
nabla=$1
data=${2:-${NABLA_DATA:-$(dirname "$0")/../../data/mnist}}
check=$(dirname "$0")/torch_export_check.py
images=$data/t10k-images-idx3-ubyte
[ -f "$images" ] || images=$images.gz
[ -f "$images" ] || { echo "no MNIST test images in $data: skipped"; exit 77; }
python=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import torch' 2>/dev/null; then python=$p && break; fi
done
[ -n "$python" ] || { echo "no python3 with torch (Debian: python3-torch): skipped"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nabla_torch_XXXXXX")
trap 'rm -rf "$work"' EXIT
indices=$(seq -s, 0 9999)
for model in "mlp --iters 2000" "simple-convnet --iters 300"; do
  name=${model%% *}
  # shellcheck disable=SC2086  # the model's words
  "$nabla" train --model $model --data "$data" --out "$work/$name" >"$work/$name.log" ||
    { cat "$work/$name.log"; exit 1; }
  "$nabla" export --format torch "$work/$name/model.safetensors" "$work/$name.torch.safetensors"
  "$nabla" predict --json --model "$work/$name/model.safetensors" --data "$data" \
    --index "$indices" >"$work/$name.predictions.json"
  echo -n "$name: "
  "$python" "$check" "$work/$name.torch.safetensors" "$work/$name.predictions.json" "$images"
done
