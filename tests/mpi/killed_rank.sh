#!/usr/bin/env bash
# A rank killed with SIGKILL in the middle of `mpirun -np 2 nabla train` ends the whole job
# with a non-zero exit status within seconds: no rank waits forever for the dead one.
#   killed_rank.sh NABLA MPIRUN
set -euo pipefail
nabla=$1
mpirun=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Rows enough for a long run: 2 features, 2 classes.
for i in $(seq 1 200); do echo "$((i % 2)),$((i % 7)),$((i % 5))"; done >"$dir/rows.csv"
"$mpirun" --oversubscribe -np 2 "$nabla" train --data "$dir/rows.csv" --model mlp --hidden 8 \
  --batch 20 --iters 100000000 --out "$dir/run" >"$dir/out.txt" 2>&1 &
job=$!

# Wait until training is under way (rank 0 writes metrics.csv rows), then kill rank 1.
for _ in $(seq 1 300); do
  [[ -f "$dir/run/metrics.csv" && $(wc -l <"$dir/run/metrics.csv") -gt 3 ]] && break
  sleep 0.1
done
victim=""
for pid in $(pgrep -P "$job"); do
  environ=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null) || continue
  if grep -qx "OMPI_COMM_WORLD_RANK=1" <<<"$environ"; then
    victim=$pid
  fi
done
if [[ -z "$victim" ]]; then
  echo "FAIL: rank 1 not found among the children of mpirun ($job)"; cat "$dir/out.txt"
  kill -9 "$job" 2>/dev/null || true
  exit 1
fi
kill -9 "$victim"
killed_at=$SECONDS

# The job must end by itself, soon, and not with success.
for _ in $(seq 1 300); do
  kill -0 "$job" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$job" 2>/dev/null; then
  echo "FAIL: the job still runs 30 s after rank 1 was killed"; cat "$dir/out.txt"
  kill -9 "$job"; pkill -9 -P "$job" || true
  exit 1
fi
status=0
wait "$job" || status=$?
echo "mpirun ended $((SECONDS - killed_at)) s after rank 1 was killed, exit status $status"
if [[ $status -eq 0 ]]; then
  echo "FAIL: exit status 0 after a rank was killed"; cat "$dir/out.txt"
  exit 1
fi
# No rank is left behind.
if pgrep -f "$dir/run" >/dev/null; then
  echo "FAIL: a rank outlived the job"; exit 1
fi
echo "PASS"
