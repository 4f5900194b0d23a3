#!/usr/bin/env bash
# <nabla/nabla.h> is the whole public API: every header of include/nabla/ is included
# there (a header added without it fails this test; detail/ aside), and it compiles on its own.
# check_umbrella_header.sh SOURCE_DIR CXX
set -euo pipefail
source=$1 cxx=$2
status=0
for header in "$source"/include/nabla/*/*.h; do
  name=${header#"$source"/include/}
  [ "${name#nabla/detail/}" = "$name" ] || continue  # detail/: not the API (below)
  if ! grep -qx "#include \"$name\"" "$source/include/nabla/nabla.h"; then
    echo "include/nabla/nabla.h does not include $name"
    status=1
  fi
done
echo '#include <nabla/nabla.h>' | "$cxx" -std=c++20 -fsyntax-only -I"$source/include" -x c++ - ||
  status=1
# detail/ holds what the library and the command share (threads, huge-page buffers), not the
# API: nabla.h does not pull detail/workers.h in, even through another header.
if echo '#include <nabla/nabla.h>' | "$cxx" -std=c++20 -E -H -I"$source/include" -x c++ - 2>&1 >/dev/null |
  grep -q 'nabla/detail/workers.h'; then
  echo "nabla/nabla.h pulls in nabla/detail/workers.h"
  status=1
fi
exit $status
