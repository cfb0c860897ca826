#!/bin/sh
# Builds one self-contained x86_64 exliar (static glibc, libstdc++, ncursesw,
# pugixml; fmt header-only; the GPU database embedded) into ./build-static/exliar, for
# hosts that are not Debian. BUILD_DIR overrides the directory.
# Limits of a static glibc binary (glibc's own warnings at link time): plugins loaded with
# dlopen(3) need the same glibc at run time, and user/group names resolve through NSS.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-static}
LAUNCHER=
command -v ccache >/dev/null 2>&1 && LAUNCHER=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DEXLIAR_STATIC=ON -DEXLIAR_TESTS=OFF \
  $LAUNCHER >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target exliar
strip "$BUILD_DIR/exliar"
if ldd "$BUILD_DIR/exliar" >/dev/null 2>&1; then
  echo "$0: $BUILD_DIR/exliar is dynamic:" >&2
  ldd "$BUILD_DIR/exliar" >&2
  exit 1
fi
echo "$BUILD_DIR/exliar: $(ldd "$BUILD_DIR/exliar" 2>&1 | sed 's/^[[:space:]]*//')"
"$BUILD_DIR/exliar" --version
