#!/usr/bin/env bash
# Soak: the built `nabla` run thousands of times on command lines drawn at random from every
# command's options, with values good and bad, and on small files made for it (an MNIST of
# 100 images, CSV rows, CoNLL tweets, word vectors, a model of each kind) and bad ones
# (missing, empty, a directory, a FIFO, /dev/zero, garbage, a truncated model, text that is
# not UTF-8), stdout sometimes on /dev/full. It counts what must never happen:
#
#   signals      the process died of a signal (a crash), or ran past its time (a hang)
#   other        an exit status other than 0, 1 or 2 (exit_status.h)
#   false zeros  exit status 0 where the command line cannot succeed (a bad value for an
#                option the command reads, an unknown option, stdout on /dev/full)
#
# and exits 1 if any is above 0, printing those cases. The in-process harness
# (tests/cli/command_harness_test.cc) draws from the same options in the unit tests.
#
#   scripts/soak.sh                         # 2000 invocations of build/nabla, seed 1
#   scripts/soak.sh --cases 200 --seed 24   # CI's short soak (.ci/run)
#   scripts/soak.sh --binary build-asan/nabla --cases 500
set -uo pipefail
cd "$(dirname "$0")/.."

cases=2000
seed=1
binary=build/nabla
per_case_timeout=60
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --timeout) per_case_timeout=$2; shift 2 ;;
    *) echo "usage: scripts/soak.sh [--cases N] [--seed S] [--binary PATH] [--timeout S]" >&2
       exit 2 ;;
  esac
done
binary=$(realpath "$binary") || exit 2
[ -x "$binary" ] || { echo "soak.sh: $binary is not an executable (build first)" >&2; exit 2; }

world=$(mktemp -d "${TMPDIR:-/tmp}/nabla_soak_XXXXXX")
trap 'rm -rf "$world"' EXIT
cd "$world"

# ---- the files ---------------------------------------------------------------------------
python3 - <<'EOF'
import os, struct
def idx(path, dims, data):
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 8, len(dims)))
        f.write(struct.pack(">" + "I" * len(dims), *dims))
        f.write(bytes(data))
os.makedirs("mnist", exist_ok=True)
for prefix, n in (("train", 100), ("t10k", 30)):
    pixels = []
    for i in range(n):
        c = i % 10
        for y in range(28):
            for x in range(28):
                pixels.append(220 if y in (2 * c, 2 * c + 1) else (x * 7 + y * 3 + i) % 30)
    idx(f"mnist/{prefix}-images-idx3-ubyte", (n, 28, 28), pixels)
    idx(f"mnist/{prefix}-labels-idx1-ubyte", (n,), [i % 10 for i in range(n)])
with open("rows.csv", "w") as f:
    f.write("label,a,b,c,d\n")
    for i in range(60):
        f.write(f"{i % 3},{int(i % 3 == 0)},{int(i % 3 == 1)},{int(i % 3 == 2)},{(i % 7) / 10}\n")
with open("tweets.conll", "w") as f:
    s = ["Obama\tB-PER\nin\tO\nParis\tB-LOC\n", "I\tO\nlove\tO\nGoogle\tB-ORG\n",
         "RT\tO\n@NBA\tO\n:\tO\nLeBron\tB-PER\nJames\tI-PER\n"]
    for i in range(12):
        f.write(s[i % 3] + "\n")
with open("vectors.txt", "w") as f:
    for k, w in enumerate(["obama", "in", "paris", "i", "love", "google"]):
        f.write(w + "".join(f" {((k * 8 + j) % 11) / 10 - 0.5:.4f}" for j in range(8)) + "\n")
with open("text.txt", "w") as f:
    f.write("Obama loves Paris\nGoogle in Paris\n")
with open("digit.pgm", "w") as f:
    f.write("P2\n4 4\n255\n" + " ".join("255" if i % 5 == 0 else "0" for i in range(16)) + "\n")
with open("garbage", "wb") as f:
    f.write(bytes((i * 131 + 7) % 256 for i in range(400)))
with open("notutf8.conll", "wb") as f:
    f.write(b"caf\xff\tO\n\n")
open("empty", "w").close()
os.makedirs("emptydir", exist_ok=True)
os.mkfifo("fifo")
EOF
export NABLA_DATA=$world/mnist
"$binary" train --iters 20 --batch 10 --out run >/dev/null 2>&1 ||
  { echo "soak.sh: the model of the soak did not train" >&2; exit 1; }
"$binary" ner train --train tweets.conll --dev tweets.conll --test tweets.conll \
  --vectors vectors.txt --epochs 1 --hidden 4 --out nerrun >/dev/null 2>&1 ||
  { echo "soak.sh: the tagger of the soak did not train" >&2; exit 1; }
head -c 2000 run/model.safetensors >truncated.safetensors
cp -r run taken  # (an --out holding a run)

# ---- drawing a command line --------------------------------------------------------------
RANDOM=$seed
bad_files='missing|empty|emptydir|fifo|garbage|/dev/zero|/dev/null|'
args=()
must_fail=0

# opt NAME GOOD BAD [optional|read|required]: with probability 1/2 (9/10 if `required`),
# NAME (a flag when GOOD and BAD are both empty; a positional argument when NAME does not
# start with -) and a value from GOOD ('|'-separated), one time in ten from BAD, taking
# the place of a value the command line has for NAME already; a bad value fails the case
# unless the option is `optional` (read only with some others).
opt() {
  local name=$1 good=$2 bad=${3:-} read=${4:-read}
  if [ "$read" = required ]; then ((RANDOM % 10 == 0)) && return; else ((RANDOM % 2)) && return; fi
  local at=-1 k
  if [ -z "$good" ] && [ -z "$bad" ]; then args+=("$name"); return; fi
  if [ "${name:0:1}" = - ]; then
    for k in "${!args[@]}"; do [ "${args[k]}" = "$name" ] && at=$((k + 1)); done
    [ $at = -1 ] && { args+=("$name"); at=${#args[@]}; }
  else
    at=${#args[@]}
  fi
  local pool=$good is_bad=0
  if [ -n "$bad" ] && { ((RANDOM % 10 == 0)) || [ -z "$good" ]; }; then pool=$bad; is_bad=1; fi
  local values
  IFS='|' read -r -a values <<<"$pool|"
  args[at]=${values[RANDOM % ${#values[@]}]}
  [ $is_bad = 1 ] && [ "$read" != optional ] && must_fail=1
  return 0
}

draw() {
  args=()
  must_fail=0
  takes_words=0
  local counts='1|2|3|0' bad_counts='-1|abc|99999999999999999999|2.5|nan|'
  local reals='0.1|0.01|1' bad_reals='-1|abc|inf|nan|1e999|'
  local outs='out1|out2|runs/x|taken' bad_outs='empty|garbage|/dev/full'
  case $((RANDOM % 9)) in
    0)
      args=(train --iters 3)
      opt --data 'mnist|rows.csv' "$bad_files|notutf8.conll"
      opt --test-data 'rows.csv' "$bad_files" optional
      opt --model 'two-layer-net|mlp|linear' 'lenet|'
      opt --arch 'affine:5 relu affine:10|affine:8 batchnorm,eps=0.001 relu affine:10|input:1x28x28 conv:2x3 relu maxpool:2 affine:10' \
        ' |affine:0|relu:3|conv:2x30 affine:10|bogus|affine:10,|batchnorm,0.001 affine:10|input:0 affine:10|'
      opt --hidden '5|5,5|3' '0|1048577|abc|'
      opt --activation 'relu|tanh|sigmoid' 'gelu'
      opt --loss 'softmax|svm' 'mse'
      opt --reg "$reals|0" "$bad_reals"
      opt --batch '1|10|50' '0|-5|abc'
      opt --lr "$reals" "$bad_reals|0"
      opt --optimizer 'sgd|adam|momentum' 'lbfgs'
      opt --init 'std|he|xavier' 'zeros'
      opt --init-std "$reals" "$bad_reals|0"
      opt --seed "$counts" "$bad_counts"
      opt --sampling 'replacement|shuffle' 'sometimes'
      opt --threads '1|2' '0|300|x'
      opt --out "$outs" "$bad_outs"
      opt --overwrite '' ''
      opt --resume 'run/model.safetensors' "$bad_files|truncated.safetensors|nerrun/model.safetensors"
      opt --epochs '1' '0|-1|x'
      ;;
    1)
      args=(eval)
      opt --model 'run/model.safetensors' "$bad_files|truncated.safetensors|nerrun/model.safetensors|rows.csv" required
      opt --data 'mnist' "$bad_files"
      opt --train '' ''
      opt --json '' ''
      ;;
    2)
      args=(predict)
      takes_words=1
      opt --model 'run/model.safetensors' "$bad_files|truncated.safetensors" required
      opt input 'digit.pgm' "$bad_files|rows.csv"
      opt --index '0|5|0,29' '30|-1|abc|'
      opt --data 'mnist' "$bad_files" optional
      opt --json '' ''
      ;;
    3)
      args=(knn)
      opt --data 'mnist' "$bad_files"
      opt --train-size '50|100' '0|101|-3|x'
      opt --test-size '5|30' '0|31|x'
      opt --cv-size '20|50' '1|x|101' optional
      opt --distance 'l1|l2' 'cosine'
      opt --k '1|3|1,3|1,,3' '0|101|x'
      opt --folds '2|3' '1|101|x'
      opt --threads '1|2' '0|257'
      ;;
    4)
      args=(example)
      takes_words=1
      opt name 'apple|add-mul|softmax-loss|affine-bias' 'bogus' optional  # (--list shows all)
      opt --list '' ''
      opt --dot 'graph.dot|graph2.dot' 'emptydir|/dev/full|missing/graph.dot' optional
      ;;
    5)
      # (the window tagger's check on a small file: TwoLayerNet's takes seconds)
      args=(gradcheck --samples 1 --model ner --data tweets.conll)
      opt --samples '1|2' '0|101|x'
      opt --seed "$counts" "$bad_counts"
      opt --data 'tweets.conll' "$bad_files|notutf8.conll"
      opt --rel-floor "$reals" "$bad_reals|0"
      ;;
    6)
      args=(ner train --epochs 1 --train tweets.conll --dev tweets.conll --test tweets.conll
        --vectors vectors.txt)
      opt --train 'tweets.conll' "$bad_files|notutf8.conll"
      opt --dev 'tweets.conll' "$bad_files|notutf8.conll"
      opt --test 'tweets.conll' "$bad_files|notutf8.conll"
      opt --vectors 'vectors.txt' "$bad_files|rows.csv"
      opt --window '0|1|2' '21|-1|x'
      opt --hidden '2|4' '0|x'
      opt --shape-dim '0|3' '1001|x'
      opt --lr "$reals" "$bad_reals|0"
      opt --batch '1|8' '0|x'
      opt --seed "$counts" "$bad_counts"
      opt --out "$outs" "$bad_outs"
      opt --overwrite '' ''
      ;;
    7)
      args=(ner eval)
      opt --model 'nerrun/model.safetensors' "$bad_files|run/model.safetensors|truncated.safetensors" required
      opt --data 'tweets.conll' "$bad_files|notutf8.conll" required
      ;;
    8)
      args=(ner tag)
      takes_words=1
      opt --model 'nerrun/model.safetensors' "$bad_files|run/model.safetensors" required
      opt input 'text.txt|-' 'missing|emptydir|fifo|/dev/zero'
      ;;
  esac
  if ((RANDOM % 12 == 0)); then
    # (a stray word where the command takes one is its argument: `example --list stray`)
    if ((RANDOM % 2)) || [[ $takes_words = 1 ]]; then args+=(--bogus); else args+=(stray); fi
    must_fail=1
  fi
}

# ---- the soak ----------------------------------------------------------------------------
declare -A by_status=()
signals=0 other=0 false_zeros=0
report() { echo "soak.sh: $1: nabla$(printf " '%s'" "${args[@]}")$2"; head -5 err | sed 's/^/    /'; }
start=$SECONDS
for ((i = 0; i < cases; i++)); do
  draw
  out=stdout
  # (stdout on /dev/full fails every command but `ner tag` of empty input, which prints
  # nothing)
  if ((RANDOM % 8 == 0)); then
    out=/dev/full
    [[ " ${args[*]} " = *" tag "*" text.txt "* || "${args[0]}" != ner || "${args[1]}" != tag ]] &&
      must_fail=1
  fi
  timeout -k 5 "$per_case_timeout" "$binary" "${args[@]}" </dev/null >"$out" 2>err
  status=$?
  by_status[$status]=$((${by_status[$status]:-0} + 1))
  suffix=$([ "$out" = /dev/full ] && echo ' >/dev/full')
  if [ $status -ge 124 ]; then
    signals=$((signals + 1))
    report "exit status $status (a signal, or a hang past ${per_case_timeout} s)" "$suffix"
  elif [ $status -gt 2 ]; then
    other=$((other + 1))
    report "exit status $status" "$suffix"
  elif [ $status = 0 ] && [ $must_fail = 1 ]; then
    false_zeros=$((false_zeros + 1))
    report "exit status 0 for a command line that cannot succeed" "$suffix"
  fi
done
echo "soak.sh: $cases invocations of $binary (seed $seed) in $((SECONDS - start)) s:" \
  "exit 0: ${by_status[0]:-0}, 1: ${by_status[1]:-0}, 2: ${by_status[2]:-0};" \
  "signals or hangs: $signals, other statuses: $other, false zeros: $false_zeros"
[ $((signals + other + false_zeros)) = 0 ]
