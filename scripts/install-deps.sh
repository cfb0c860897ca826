#!/bin/sh
# Installs the Debian 12 packages exliar needs (run as root; uses sudo only when not root).
#   scripts/install-deps.sh          everything: build, tests, QEMU lab, packaging (CI)
#   scripts/install-deps.sh --build  only what building and running exliar needs
# These two lists are the single source of truth; .ci/run calls this script without options.
set -eu
export DEBIAN_FRONTEND=noninteractive

# Build and run: compiler, CMake, the libraries of CMakeLists.txt, python3 for the man page
# and completion generator (scripts/gen-cli-docs.py), pci.ids for device names.
BUILD="cmake make g++ pkg-config python3-minimal
  libcli11-dev nlohmann-json3-dev libfmt-dev libexpected-dev libpugixml-dev
  libncurses-dev pci.ids"

# Tests, the QEMU lab, sanitizers/fuzzing, the Debian package and its chroot test.
TEST="libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  pciutils python3 python3-jsonschema
  libvirt-clients libxml2-utils
  qemu-system-x86 busybox-static cpio kmod
  clang-14 libclang-rt-14-dev
  ansible
  ovmf debootstrap e2fsprogs dosfstools fdisk mtools
  dash hyperfine time tmux graphviz ca-certificates ccache
  debhelper dpkg-dev lintian fakeroot mandoc groff-base man-db bash-completion zsh fish"

case "${1:-}" in
  --build) PKGS=$BUILD ;;
  "") PKGS="$BUILD $TEST" ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

SUDO=
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "$0: run as root (no sudo here)" >&2; exit 3; }
  SUDO=sudo
fi
# shellcheck disable=SC2086 # word splitting of the package lists is intended
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $PKGS
