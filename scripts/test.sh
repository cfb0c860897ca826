#!/bin/sh
# Builds and runs every test (unit, fixture machines, libvirt validation, QEMU e2e).
# The last line is ctest's summary.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/build.sh
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@"
