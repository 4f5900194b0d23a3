#!/usr/bin/env bash
# <nabla/nabla.h> is the whole public API: every header of include/nabla/ is included
# there (a header added without it fails this test), and it compiles on its own.
# check_umbrella_header.sh SOURCE_DIR CXX
set -euo pipefail
source=$1 cxx=$2
status=0
for header in "$source"/include/nabla/*/*.h; do
  name=${header#"$source"/include/}
  if ! grep -qx "#include \"$name\"" "$source/include/nabla/nabla.h"; then
    echo "include/nabla/nabla.h does not include $name"
    status=1
  fi
done
echo '#include <nabla/nabla.h>' | "$cxx" -std=c++20 -fsyntax-only -I"$source/include" -x c++ - ||
  status=1
exit $status
