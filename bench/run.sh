#!/bin/sh
# Everything issue 23 measures, in one run, on the synthetic trees of gen_root.py (1024 and
# 8192 functions) and the fixture machines of the build tree:
#   - `exliar detect --json` against `lspci -nnk` reading the same tree (hyperfine, and
#     the ratio of the means), and the classic shell loop over iommu_groups (scaled);
#   - system calls per PCI function (strace -c -f, all calls of the process / functions);
#   - exliar's peak RSS (GNU time);
#   - apply's own time on each fixture machine where apply plans something: with --root
#     exliar runs no regeneration command (it records them), so the whole run is its own
#     work (files read, plan, journal, backups, fsyncs).
# Usage: bench/run.sh [BUILD_DIR]   (BENCH_DIR: where the trees go, default /tmp/exliar-bench)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
exe=$build/exliar
work=${BENCH_DIR:-/tmp/exliar-bench}
mkdir -p "$work"
for n in 1024 8192; do
  # The trees are regenerated when gen_root.py changes (the kernel's layout it writes).
  stamp=$work/r$n.stamp
  if [ ! -d "$work/r$n" ] || [ "$here/gen_root.py" -nt "$stamp" ]; then
    rm -rf "$work/r$n"
    python3 "$here/gen_root.py" "$work/r$n" "$n" >/dev/null
    touch "$stamp"
  fi
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

mean() {  # mean time in ms of command N (0-based) in a hyperfine JSON export
  python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['mean']*1000))" "$1" "$2"
}

for n in 1024 8192; do
  root=$work/r$n
  echo "== $n functions"
  hyperfine -N -w 2 -r 10 --export-json "$work/h$n.json" \
    "$exe --root $root detect --json" \
    "lspci -A linux-sysfs -O sysfs.path=$root/sys/bus/pci -nnk" >/dev/null 2>&1
  ex=$(mean "$work/h$n.json" 0) ls=$(mean "$work/h$n.json" 1)
  echo "detect --json: $ex ms; lspci -nnk: $ls ms; exliar is $(python3 -c "print('%.2f' % ($ls/$ex))")x faster"
  strace -f -c -o "$work/strace$n.txt" "$exe" --root "$root" detect --json >/dev/null 2>&1
  calls=$(awk '$NF == "total" {print $(NF-2) ~ /^[0-9]+$/ ? $(NF-2) : $(NF-1)}' "$work/strace$n.txt")
  echo "system calls: $calls in all, $(python3 -c "print('%.2f' % ($calls/$n))") per function"
  echo "peak RSS: exliar $(rss "$exe" --root "$root" detect --json) KiB," \
       "lspci $(rss lspci -A linux-sysfs -O sysfs.path="$root/sys/bus/pci" -nnk) KiB"
  # The loop is O(n^2) (every lspci scans the whole tree): time 128 devices, scale linearly.
  start=$(date +%s.%N); loop "$root" 128; end=$(date +%s.%N)
  echo "shell loop: $(python3 -c "print(f'{($end-$start)/128*$n:.1f}')") s for $n devices (measured on 128, scaled)"
done

echo "== apply --gpu auto --yes on the fixture machines (exliar's own time: no command runs)"
for m in "$build"/machines/*/; do
  name=$(basename "$m") copy=$work/apply-$name
  rm -rf "$copy" && cp -a "$m" "$copy"
  if ! "$exe" --root "$copy" apply --gpu auto --yes -q >/dev/null 2>&1; then
    echo "$name: apply plans nothing here (see exliar check), skipped"
    continue
  fi
  steps=$("$exe" --root "$m" plan --gpu auto --json 2>/dev/null |
          python3 -c "import json,sys; j=json.load(sys.stdin); print(len(j['steps']))")
  hyperfine -N -w 1 -r 10 --export-json "$work/apply-$name.json" \
    --prepare "sh -c 'rm -rf $copy && cp -a $m $copy'" \
    "$exe --root $copy apply --gpu auto --yes -q" >/dev/null 2>&1
  echo "$name: $(mean "$work/apply-$name.json" 0) ms ($steps steps)"
done
