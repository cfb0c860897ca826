#!/bin/sh
# Installs everything exliar needs to build and test on Debian 12 (run as root).
# This list is the single source of truth; .ci/run calls this script.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  cmake make g++ pkg-config \
  libcli11-dev nlohmann-json3-dev libfmt-dev libexpected-dev libpugixml-dev \
  libncurses-dev libssl-dev \
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev \
  pci.ids pciutils python3 python3-jsonschema \
  libvirt-clients libxml2-utils \
  qemu-system-x86 busybox-static cpio kmod \
  clang-14 libclang-rt-14-dev \
  ansible \
  ovmf debootstrap e2fsprogs dosfstools fdisk mtools \
  dash hyperfine time tmux graphviz ca-certificates ccache
