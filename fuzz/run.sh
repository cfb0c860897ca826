#!/bin/sh
# Builds every libFuzzer harness with clang and runs each for a bounded time on its seed
# corpus (fuzz/corpus/<name>/, read-only; new inputs go to the build dir).
# Usage: fuzz/run.sh [BUILD_DIR]   env: FUZZ_SECONDS (default 30), FUZZERS (default: all)
# Exit: 0 no findings, 1 a finding (crash input saved in BUILD_DIR/artifacts), 77 no clang.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
fuzzers=${FUZZERS:-fuzz_vbios}
cxx=$(command -v clang++-14 || command -v clang++ || true)
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cxx" ] || [ -z "$cc" ]; then
  echo "fuzz: clang not found, skipped" >&2
  exit 77
fi
CC=$cc CXX=$cxx cmake -S "$src" -B "$build" -DEXLIAR_FUZZ=ON -DEXLIAR_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
  >/dev/null
for f in $fuzzers; do
  cmake --build "$build" -j"${JOBS:-2}" --target "$f" >/dev/null
done
mkdir -p "$build/artifacts"
status=0
for f in $fuzzers; do
  work="$build/corpus/$f"
  mkdir -p "$work"
  seeds="$src/fuzz/corpus/$f"
  [ -d "$seeds" ] || seeds=
  echo "fuzz: $f for ${seconds}s" >&2
  if ! "$build/fuzz/$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$build/artifacts/$f-" "$work" $seeds; then
    echo "fuzz: $f found a problem; see $build/artifacts" >&2
    status=1
  fi
done
exit $status
