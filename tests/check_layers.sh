#!/usr/bin/env bash
# The library's folders depend in one direction only (docs/design.md): a header or source
# of include/nabla/<folder>/ or src/<folder>/ includes only the public headers of the
# folders below it. Prints every include that goes the wrong way; fails if there is one.
# check_layers.sh SOURCE_DIR
set -euo pipefail
cd "$1"
# (detail/: the threads and buffers every folder may use; not the API, nabla.h leaves it out)
declare -A allowed=(
  [detail]="detail core"
  [core]="detail core"
  [kernels]="detail core"
  [autograd]="detail core autograd"
  [data]="detail core data"
  [ops]="detail core autograd ops"
  [text]="detail core data text"
  [nn]="detail core autograd ops nn"
  [train]="detail core autograd ops nn data text train"
  [tasks]="detail core autograd ops nn data text train tasks"
)
status=0
for folder in "${!allowed[@]}"; do
  for file in $(find include/nabla/"$folder" src/"$folder" -name '*.h' -o -name '*.cc' 2>/dev/null); do
    while IFS= read -r used; do
      if [[ " ${allowed[$folder]} " != *" $used "* ]]; then
        echo "$file includes nabla/$used/: $folder may use only ${allowed[$folder]}"
        status=1
      fi
    done < <(grep -oE '#include "nabla/[a-z_]+/' "$file" | sed -E 's|.*nabla/([a-z_]+)/|\1|' | sort -u)
  done
done
# Nothing loose: every source of the library is in a folder.
for file in src/*.cc src/*.h include/nabla/*.h; do
  [ -e "$file" ] || continue
  [ "$file" = include/nabla/nabla.h ] && continue
  [ "$file" = include/nabla/core.h ] && continue  # (the tensors and the graph alone)
  echo "$file is outside the folders"
  status=1
done
exit $status
