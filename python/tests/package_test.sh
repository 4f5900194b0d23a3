#!/usr/bin/env bash
# The Python package as a user installs it, offline, into fresh virtual environments:
#   1. pip install --no-build-isolation SOURCE   (pyproject.toml + setup.py, Debian's
#      setuptools); then every python/tests/test_*.py runs against the installed package,
#      from a directory where the source tree cannot be imported by accident;
#   2. python3 -m build --no-isolation --wheel, and pip install of that wheel;
#   3. cmake --install BUILD --component python, imported through PYTHONPATH.
# The module is built in BUILD (NABLA_CMAKE_BUILD_DIR), which CTest's build has brought
# up to date, so each install costs seconds, not a compilation.
#   package_test.sh BUILD SOURCE PYTHON
set -euo pipefail
build=$1 source=$2 python=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/nabla_python_package_XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export NABLA_CMAKE_BUILD_DIR=$build PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH
venv() {  # a fresh environment that sees Debian's NumPy, pytest, setuptools
  "$python" -m venv --system-site-packages "$1" || fail "python3 -m venv (Debian: python3-venv)"
}
installed_in() {  # the package imports from the environment $1, not from the source tree
  (cd "$work" && "$1/bin/python" -c 'import nabla, sys; print(nabla.__file__)') >"$work/where"
  grep -q "^$1/" "$work/where" || fail "nabla imported from $(cat "$work/where"), not $1"
}

# 1. pip install . and the tests against the installed package
start=$(date +%s)
venv "$work/pip"
"$work/pip/bin/pip" install -q --no-build-isolation "$source" >"$work/pip.log" 2>&1 ||
  { cat "$work/pip.log"; fail "pip install --no-build-isolation"; }
installed_in "$work/pip"
echo "pip install: $(($(date +%s) - start)) s"
cp -r "$source/python/tests" "$work/tests"
runner=(-m unittest -q)
"$work/pip/bin/python" -c 'import pytest' 2>/dev/null && runner=(-m pytest -q -p no:cacheprovider)
for test in "$work"/tests/test_*.py; do
  # the property tests ran in full against build/python: a few examples suffice here
  (cd "$work/tests" && NABLA_SOURCE_DIR=$source NABLA_HYPOTHESIS_EXAMPLES=20 \
    "$work/pip/bin/python" "${runner[@]}" \
    "$(basename "$test")") || fail "$(basename "$test") against the installed package"
done
echo "pip install + tests: $(($(date +%s) - start)) s"

# 2. the wheel
start=$(date +%s)
(cd "$source" && "$python" -m build --no-isolation --wheel --outdir "$work/dist" \
  >"$work/wheel.log" 2>&1) || { cat "$work/wheel.log"; fail "python3 -m build --no-isolation --wheel (Debian: python3-build)"; }
wheel=$(ls "$work"/dist/nabla-*.whl)
"$python" -m zipfile -l "$wheel" >"$work/wheel.txt"
for f in "nabla/_nabla.*\.so" nabla/__init__.py nabla/book.py nabla/py.typed nabla/_nabla.pyi; do
  grep -q "^$f" "$work/wheel.txt" || fail "$f is not in $wheel"
done
venv "$work/wheel"
"$work/wheel/bin/pip" install -q "$wheel" || fail "pip install $wheel"
installed_in "$work/wheel"
(cd "$work" && "$work/wheel/bin/python" -c '
import nabla, numpy as np
net = nabla.TwoLayerNet(4, 3, 2)
print("wheel:", nabla.__version__, net.loss(np.ones((2, 4)), [0, 1]))') || fail "the wheel's module"
echo "wheel: $(($(date +%s) - start)) s"

# 3. cmake --install, component python
cmake --install "$build" --component python --prefix "$work/prefix" >/dev/null ||
  fail "cmake --install --component python"
site=$(find "$work/prefix" -name __init__.py -path '*site-packages/nabla/*' -printf '%h\n')
[ -n "$site" ] || fail "cmake --install put no nabla/__init__.py under site-packages"
(cd "$work" && PYTHONPATH=$(dirname "$site") "$python" -c '
import nabla; assert nabla.TwoLayerNet(2, 2, 2).params["W1"].shape == (2, 2)') ||
  fail "the package cmake --install installed"
echo "package_test: ok"
