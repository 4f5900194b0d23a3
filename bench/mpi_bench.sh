#!/usr/bin/env bash
# Data parallelism's benchmark (issue 26): one epoch of the textbook's SimpleConvNet
# (600 Adam steps of batch 100) and the MLP recipe (TwoLayerNet, 10,000 SGD steps of batch
# 100), each as
#   1 process x 1 thread, 1 process x 2 threads, 2 ranks x 1 thread (mpirun -np 2),
#   and 1 process with --shards 2 (the same arithmetic as 2 ranks, one after another),
# from `nabla train --timing`: the training loop's seconds (evaluations left out), the
# wall seconds (with the evaluations, split among the ranks), and for the ranks the time
# in communication and the bytes rank 0 sent. Ends with one line per configuration:
#   RESULT_MPI model=... config=... train_s=... wall_s=... comm_s=... bytes_per_step=...
#
#   bench/mpi_bench.sh [--only cnn|mlp] [--build DIR] [--data DIR]
# (scripts/bench.sh --task mpi runs it after fetching MNIST and building.)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
data=data/mnist
only=""
while (($#)); do
  case $1 in
    --only) only=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --task) shift 2 ;;  # (scripts/bench.sh's)
    *) echo "mpi_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
nabla=$build/nabla
mpirun=$(command -v mpirun) || { echo "mpi_bench: mpirun not found (apt-get install openmpi-bin)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME STEPS LAUNCH... -- ARGS: one run, its RESULT_MPI line.
run() {
  local model=$1 config=$2 steps=$3
  shift 3
  local log="$out/$model-$config.txt"
  "$@" --data "$data" --timing --out "$out/run-$model-$config" >"$log" 2>&1 ||
    { echo "mpi_bench: $model $config failed:"; tail -5 "$log"; return 1; }
  local timing comm
  timing=$(grep '^TIMING ' "$log")
  comm=$(grep '^TIMING_COMM ' "$log")
  local train_s wall_s acc comm_s bytes
  train_s=$(sed -n 's/.*train_s=\([^ ]*\).*/\1/p' <<<"$timing")
  wall_s=$(sed -n 's/.*wall_s=\([^ ]*\).*/\1/p' <<<"$timing")
  acc=$(sed -n 's/.*test_acc=\([^ ]*\).*/\1/p' <<<"$timing")
  comm_s=$(sed -n 's/.*comm_s=\([^ ]*\).*/\1/p' <<<"$comm")
  bytes=$(sed -n 's/.*bytes_sent=\([^ ]*\).*/\1/p' <<<"$comm")
  echo "RESULT_MPI model=$model config=$config train_s=$train_s wall_s=$wall_s comm_s=$comm_s" \
    "bytes_per_step=$((bytes / steps)) test_acc=$acc"
}

if [[ -z "$only" || "$only" == cnn ]]; then
  cnn=(train --model simple-convnet --epochs 1)
  run cnn 1x1 600 "$nabla" "${cnn[@]}" --threads 1
  run cnn 1x2 600 "$nabla" "${cnn[@]}" --threads 2
  run cnn 2x1 600 "$mpirun" --oversubscribe -np 2 "$nabla" "${cnn[@]}" --threads 1
  run cnn shards2 600 "$nabla" "${cnn[@]}" --threads 1 --shards 2
fi
if [[ -z "$only" || "$only" == mlp ]]; then
  mlp=(train --model two-layer-net --iters 10000)
  run mlp 1x1 10000 "$nabla" "${mlp[@]}" --threads 1
  run mlp 1x2 10000 "$nabla" "${mlp[@]}" --threads 2
  run mlp 2x1 10000 "$mpirun" --oversubscribe -np 2 "$nabla" "${mlp[@]}" --threads 1
  run mlp shards2 10000 "$nabla" "${mlp[@]}" --threads 1 --shards 2
fi
