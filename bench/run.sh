#!/bin/sh
# Times `exliar detect --json` against `lspci -nnk` and the classic shell loop over
# /sys/kernel/iommu_groups calling `lspci -nns` per device, all reading the same
# synthetic tree, and measures exliar's peak RSS. Usage: bench/run.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
exe=$build/exliar
work=${BENCH_DIR:-/tmp/exliar-bench}
mkdir -p "$work"
for n in 1024 8192; do
  [ -d "$work/r$n" ] || python3 "$here/gen_root.py" "$work/r$n" "$n" >/dev/null
done

loop() {  # the Arch-wiki loop, pointed at ROOT; $2 limits the number of devices
  root=$1 limit=$2 i=0
  for d in "$root"/sys/kernel/iommu_groups/*/devices/*; do
    i=$((i + 1)); [ "$i" -gt "$limit" ] && break
    grp=${d#*/iommu_groups/}; grp=${grp%%/*}
    printf "IOMMU Group %s " "$grp"
    lspci -A linux-sysfs -O sysfs.path="$root/sys/bus/pci" -nns "${d##*/}" 2>/dev/null
  done >/dev/null
}

rss() {  # peak RSS in KiB of a command (GNU time)
  /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}

for n in 1024 8192; do
  root=$work/r$n
  echo "== $n functions"
  hyperfine -N -w 2 -r 10 --export-json "$work/h$n.json" \
    "$exe --root $root detect --json" \
    "lspci -A linux-sysfs -O sysfs.path=$root/sys/bus/pci -nnk" 2>/dev/null | grep -E "Time|±|faster|slower|Benchmark" || true
  echo "exliar peak RSS: $(rss "$exe" --root "$root" detect --json) KiB"
  # The loop is O(n^2) (every lspci scans the whole tree): time 128 devices, scale linearly.
  start=$(date +%s.%N); loop "$root" 128; end=$(date +%s.%N)
  echo "shell loop: $(python3 -c "print(f'{($end-$start)/128*$n:.1f}')") s for $n devices (measured on 128, scaled)"
done
