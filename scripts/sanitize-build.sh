#!/bin/sh
# Configures and builds the ASan/UBSan tree the `sanitize` ctest label runs (issue 14:
# "ASan/UBSan run the unit and fixture tests in CI"). Same sources, a second build dir,
# -O1 so the tests stay quick; only the targets the sanitize tests run are built.
# Usage: scripts/sanitize-build.sh SRC_DIR BUILD_DIR TARGET...
set -eu
src=$1
build=$2
shift 2
flags="-O1 -g1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
launcher=
command -v ccache >/dev/null 2>&1 && launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=None -DEXLIAR_SANITIZED_TREE=ON \
  "-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_C_FLAGS=$flags" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" \
  "-DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined" $launcher >/dev/null
start=$(date +%s)
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target "$@" >/dev/null
echo "sanitize: built $* in $(($(date +%s) - start)) s"
