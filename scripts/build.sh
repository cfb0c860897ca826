#!/bin/sh
# Configures and builds exliar and its tests into ./build (BUILD_DIR overrides).
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
WERROR=OFF
[ "${CI:-}" = "true" ] && WERROR=ON
# ccache (when installed) lets separate build trees of the same sources share objects.
LAUNCHER=
command -v ccache >/dev/null 2>&1 && LAUNCHER=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXLIAR_WERROR=$WERROR $LAUNCHER >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
