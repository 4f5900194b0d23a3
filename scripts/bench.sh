#!/usr/bin/env bash
# The speed benchmark of issue 4, in one command: the textbook recipe (TwoLayerNet
# 784-50-10, 10,000 SGD steps of batch 100, 17 evaluations on the full training and test
# sets) timed in nabla and in its peers, NumPy (float64) and PyTorch (default and tuned),
# each at 1 and 2 threads; medians of alternating rounds; each peer's best configuration
# against nabla at the same thread count (bench/configurations.py).
#
#   scripts/bench.sh [--rounds N] [--iters N] [--only nabla,numpy,torch_default,torch_tuned]
#                    [--isa scalar|avx2|avx512]
#   scripts/bench.sh --task cnn [--rounds N] [--steps N]
#   scripts/bench.sh --task ner [--rounds N] [--epochs 10]
#                    [--only nabla,nabla_window,torch,bilstm_crf]
#   scripts/bench.sh --task mpi [--only cnn|mlp] [--rounds N]
#
# --task mpi times data parallelism (issue 26, bench/mpi_bench.py): a SimpleConvNet epoch
# and the MLP recipe as 1 process x 1 thread, 1 x 2 threads, mpirun -np 2 x 1 thread, --shards 2,
# and two independent one-thread processes on half batches (the ceiling without exchange),
# in alternating rounds (medians); RESULT_MPI gives the speedups.
#
# --task ner times `nabla ner train` (BTC, GloVe 100-d, 10 epochs + a dev evaluation after
# each; its default decoder, viterbi, and --decoder window) against two PyTorch peers, the
# window classifier bench/peers/torch_window_ner.py and the BiLSTM-CRF
# bench/peers/torch_bilstm_crf_ner.py, one thread each, and ends with RESULT_NER
# nabla_s=... torch_s=... nabla_vs_torch=... bilstm_crf_s=... nabla_vs_bilstm_crf=...
# (tokens/s, peak RSS, dev and test F1s).
#
# --task cnn times one epoch of the textbook's SimpleConvNet instead (issue 17): 600 Adam
# steps of batch 100 and the test accuracy, build/nabla_cnn_epoch against PyTorch
# (bench/peers/torch_simple_convnet.py, default and tuned), with the floor of the epoch's
# matrix products at the measured peak sgemm rate.
#
# --isa runs nabla's kernels at that level (NABLA_ISA), e.g. avx2 on an AVX-512 machine
# (with avx2, OpenBLAS and the PyTorch peers run their AVX2 kernels too, as on an AVX2 CPU);
# the table names the CPU and the level nabla ran at. The tuned PyTorch peer uses
# OpenBLAS's and ATen's AVX-512 kernels only on a CPU that has AVX-512.
# Installs what is missing from Debian (python3-numpy, python3-torch, time; with sudo
# when not root), fetches MNIST, builds Release in build/, then runs bench/run_bench.py,
# which prints a table and ends with one line
#   RESULT nabla_s=... torch_best_s=... torch_best_config=... nabla_vs_torch_best=... ...
# Set NABLA_BENCH_NO_INSTALL=1 to skip the package check and NABLA_BENCH_NO_BUILD=1 to
# use build/ as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "bench: error: $*" >&2
  exit 1
}

# The peers run on Debian's Python, where python3-numpy and python3-torch install.
python=/usr/bin/python3

install_packages() {
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to install: $*"
    sudo=(sudo)
  fi
  echo "bench: installing $* from Debian ..."
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null ||
    die "apt-get install $* failed"
}

if [[ "${NABLA_BENCH_NO_INSTALL:-0}" != 1 ]]; then
  missing=()
  [[ -x /usr/bin/time ]] || missing+=(time)
  [[ -x "$python" ]] || missing+=(python3)
  "$python" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  "$python" -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  if ((${#missing[@]})); then
    install_packages "${missing[@]}"
  fi
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian package: time)"

if [[ " $* " == *" --task ner "* ]]; then
  scripts/fetch_glove.sh
else
  scripts/fetch_mnist.sh
fi
if [[ "${NABLA_BENCH_NO_BUILD:-0}" != 1 ]]; then
  echo "bench: building Release in build/ ..."
  scripts/build.sh >/dev/null || die "the build failed (run scripts/build.sh to see why)"
fi

if [[ " $* " == *" --task mpi "* ]]; then
  exec "$python" bench/mpi_bench.py "$@"
fi
exec "$python" bench/run_bench.py "$@"
