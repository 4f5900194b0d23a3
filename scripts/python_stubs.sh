#!/usr/bin/env bash
# The type stubs of the extension module, python/nabla/_nabla.pyi, written by mypy's
# stubgen (Debian: python3-mypy) from the built module's signatures and docstrings.
#   scripts/python_stubs.sh [BUILD]           rewrites python/nabla/_nabla.pyi
#   scripts/python_stubs.sh --check [BUILD]   fails if it differs from what stubgen writes
# BUILD is the build tree (default build/); PYTHON the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
build=${1:-build} python=${PYTHON:-python3}
out=$(mktemp -d "${TMPDIR:-/tmp}/nabla_stubs_XXXXXX")
trap 'rm -rf "$out"' EXIT
PYTHONPATH="$build/python" "$python" -c '
import sys
from mypy.stubgen import main  # python3 -m mypy.stubgen fails on Debian (compiled module)
main(["-m", "nabla._nabla", "-o", sys.argv[1], "--quiet"])' "$out"
if ((check)); then
  diff -u python/nabla/_nabla.pyi "$out/nabla/_nabla.pyi" || {
    echo "python/nabla/_nabla.pyi is stale: run scripts/python_stubs.sh" >&2
    exit 1
  }
else
  cp "$out/nabla/_nabla.pyi" python/nabla/_nabla.pyi
fi
