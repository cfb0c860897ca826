#!/bin/sh
# Configures and builds exliar and its tests into ./build (BUILD_DIR overrides).
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
WERROR=OFF
[ "${CI:-}" = "true" ] && WERROR=ON
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXLIAR_WERROR=$WERROR >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
