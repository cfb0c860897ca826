#!/bin/busybox sh
# /init of the lab initramfs: mount the kernel file systems, load the modules in the order
# lab.py computed, run one scenario, report on the data channel (ttyS1), power off.
# Everything the host parses goes to ttyS1, so kernel messages on the console (ttyS0)
# can never interleave with it.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec 3>/dev/ttyS1
. /e2e/lib.sh
say "E2E-BOOTED $(cut -d' ' -f1 /proc/uptime)"
while read -r m; do
  insmod "/lib/modules/$m.ko" 2>/tmp/insmod.err || fail "insmod $m: $(cat /tmp/insmod.err)"
done </e2e/modules.order
say "E2E-MODULES $(cut -d' ' -f1 /proc/uptime)"
. /e2e/scenario.sh
finish
