#!/usr/bin/env bash
# The libFuzzer harnesses of the file readers (tests/fuzz), built with clang, ASan and UBSan
# in build-fuzz/.
#
#   scripts/fuzz.sh --regress              replay each harness's checked-in corpus (seconds)
#   scripts/fuzz.sh --time 60 [NAME...]    fuzz each harness (or the NAMEs) for 60 s
#   scripts/fuzz.sh --runs 1000000 [NAME...]  ... for a million executions each
#
# NAMEs: idx idx_gzip safetensors model ner_model image conll glove csv. Fuzzing starts
# from the seeds in tests/fuzz/corpus/NAME and keeps what it finds in
# build-fuzz/corpus/NAME (not checked in); a crash is written to build-fuzz/artifacts/ and
# stops the script with an error.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(idx idx_gzip safetensors model ner_model image conll glove csv)
mode="" limit=""
names=()
while (($#)); do
  case "$1" in
    --regress) mode=regress ;;
    --time) mode=time limit="$2"; shift ;;
    --runs) mode=runs limit="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) names+=("$1") ;;
  esac
  shift
done
[ -n "$mode" ] || { sed -n '2,12p' "$0" >&2; exit 2; }
((${#names[@]})) || names=("${all[@]}")

CXX_FUZZ=${CXX_FUZZ:-clang++}
command -v "$CXX_FUZZ" >/dev/null || { echo "fuzz.sh: $CXX_FUZZ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DNABLA_FUZZ=ON -DNABLA_BUILD_TESTS=OFF \
  -DNABLA_BUILD_APPS=OFF -DNABLA_BUILD_BENCH=OFF -DNABLA_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

# The harnesses write each input to a file: in memory where there is /dev/shm.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=${TMPDIR:-/dev/shm}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p build-fuzz/artifacts
for n in "${names[@]}"; do
  bin="build-fuzz/tests/fuzz/fuzz_$n"
  seeds="tests/fuzz/corpus/$n"
  common=(-rss_limit_mb=2048 -timeout=30 -artifact_prefix="build-fuzz/artifacts/$n-")
  if [ "$mode" = regress ]; then
    # each seed once; a harness failing on its own corpus fails the script
    "$bin" "${common[@]}" "$seeds"/* 2>build-fuzz/"$n".log ||
      { tail -40 build-fuzz/"$n".log >&2; echo "fuzz.sh: $n failed on its corpus" >&2; exit 1; }
    echo "fuzz $n: $(find "$seeds" -type f | wc -l) corpus inputs, clean"
    continue
  fi
  mkdir -p "build-fuzz/corpus/$n"
  if [ "$mode" = time ]; then stop=(-max_total_time="$limit"); else stop=(-runs="$limit"); fi
  echo "fuzz $n: $bin ${stop[*]} build-fuzz/corpus/$n $seeds"
  "$bin" "${common[@]}" "${stop[@]}" -print_final_stats=1 "build-fuzz/corpus/$n" "$seeds" \
    2>build-fuzz/"$n".log ||
    { tail -60 build-fuzz/"$n".log >&2; echo "fuzz.sh: $n found a crash (build-fuzz/artifacts/)" >&2; exit 1; }
  grep -E "^Done|stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/"$n".log | sed "s/^/  /"
done
