#!/usr/bin/env bash
# The SIMD translation units (src/kernels/avx2.cc, avx512.cc, neon.cc) must define no
# symbol but their table: a shared copy of an inline function or template built there (with
# AVX-512 instructions) could be the one the linker keeps for the whole program, which
# would then stop with SIGILL on an older CPU. (neon.cc's instructions run on every aarch64
# CPU; it is held to the same rule.)
#
#   [NM=nm] tests/check_simd_symbols.sh OBJECT...    (the library's object files; others are
#   skipped; NM: the target's nm in a cross build)
set -euo pipefail
status=0
checked=0
for obj in "$@"; do
  case "$obj" in
    */kernels/avx2.cc.o | */kernels/avx512.cc.o | */kernels/neon.cc.o) ;;
    *) continue ;;
  esac
  checked=$((checked + 1))
  # defined, externally visible symbols: T (text), W/V (weak), u (unique), D/B/R (data)
  bad=$("${NM:-nm}" -C --defined-only "$obj" | awk '$2 ~ /^[TWVuDBR]$/' |
    grep -v -E ' nabla::kernels::(avx2|avx512|neon)_table\(\)$' || true)
  if [[ -n "$bad" ]]; then
    echo "$obj defines symbols other units could share:"
    echo "$bad"
    status=1
  else
    echo "$obj: only its table"
  fi
done
echo "checked $checked SIMD object file(s)"
exit $status
