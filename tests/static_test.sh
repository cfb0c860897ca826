#!/bin/sh
# usage: static_test.sh SOURCE_DIR BINARY_DIR MACHINE...
# Builds the static binary (scripts/build-static.sh) into BINARY_DIR/static, then: ldd says
# it is not dynamic; it runs in a chroot that holds only itself and a fixture machine; it
# passes the fixture goldens (tests/machines/check_machine.py golden) like the normal build.
set -eu
src=$1 bld=$2
shift 2
t0=$(date +%s)
BUILD_DIR="$bld/static" sh "$src/scripts/build-static.sh"
exe="$bld/static/exliar"
echo "static build: $(($(date +%s) - t0)) s, $(stat -c %s "$exe") bytes"
out=$(ldd "$exe" 2>&1 || true)
case $out in *"not a dynamic executable"*) echo "ldd: $out" ;; *) echo "FAIL: ldd: $out"; exit 1 ;; esac
jail=$(mktemp -d "$bld/static-jail.XXXXXX")
trap 'rm -rf --one-file-system "$jail"' EXIT
cp "$exe" "$jail/exliar"
cp -a "$bld/machines/$1" "$jail/machine"
chroot "$jail" /exliar --version
chroot "$jail" /exliar --root /machine detect --json >"$jail/chroot.json"
"$bld/exliar" --root "$jail/machine" detect --json | sed "s#$jail/machine#/machine#g" >"$jail/host.json"
cmp "$jail/chroot.json" "$jail/host.json"
echo "chroot with only the binary: detect --json equals the dynamic build's"
for m in "$@"; do
  /usr/bin/python3 "$src/tests/machines/check_machine.py" golden "$exe" "$src" "$bld/machines/$m" "$m"
done
echo "goldens: $# machines pass with the static binary"
