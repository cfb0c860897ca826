#!/bin/sh
# Entry of every boot of the real-OS lab. Two ways in:
#   init=/e2e/init.sh      (GRUB stack and the setup boots): PID 1 itself, no systemd;
#                          mounts what an init would, starts udev and coldplugs, so drivers
#                          bind as on a normal boot;
#   init.sh --systemd      (systemd-boot stack): run by e2e.service late in a systemd boot.
# Then it runs the phase the host wrote into /e2e/phase (journey.sh), reports on ttyS1
# (the e2e data protocol, ../../e2e/guest/lib.sh) and powers the machine off; QEMU runs
# with -no-reboot, so the next boot is a new QEMU process: a cold boot.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8
UNDER_SYSTEMD=0
[ "${1:-}" = --systemd ] && UNDER_SYSTEMD=1
if [ "$UNDER_SYSTEMD" = 0 ]; then
  mountpoint -q /proc || mount -t proc proc /proc
  mountpoint -q /sys || mount -t sysfs sysfs /sys
  mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
  mount -o remount,rw /
  mountpoint -q /run || mount -t tmpfs -o mode=0755 tmpfs /run
  mkdir -p /run/lock /dev/pts
  /lib/systemd/systemd-udevd --daemon
  udevadm trigger --type=subsystems --action=add
  udevadm trigger --type=devices --action=add
  udevadm settle --timeout=120
  mount /boot/efi
  [ -d /sys/firmware/efi/efivars ] && mount -t efivarfs efivarfs /sys/firmware/efi/efivars
fi
exec 3>/dev/ttyS1
. /e2e/lib.sh
say "E2E-BOOTED $(cut -d' ' -f1 /proc/uptime)"
PHASE=$(cat /e2e/phase 2>/dev/null)
mkdir -p /e2e/out
. /e2e/common.sh
if [ "$PHASE" = setup ]; then . /e2e/setup.sh; else . /e2e/journey.sh; fi
case "$PHASE" in
  setup | boot0 | boot1 | boot1r | boot2 | boot3) "phase_$PHASE" ;;
  *) fail "unknown phase '$PHASE' in /e2e/phase" ;;
esac
say "E2E-DONE $(cut -d' ' -f1 /proc/uptime)"
if [ "$E2E_FAILS" = 0 ]; then say "E2E-RESULT PASS 0"; else say "E2E-RESULT FAIL $E2E_FAILS"; fi
exec 3>&-
# The root file system must be clean when QEMU exits: the host reads and writes it with
# debugfs, which does not replay an ext4 journal (a replay at the next mount would undo
# the host's writes). Under systemd that is a normal poweroff. Without an init: stop
# udevd, unmount the ESP, remount / read-only, then sysrq "o" (Documentation/admin-guide/
# sysrq.rst); sysrq "u" (emergency read-only remount) only if the remount failed.
sync
if [ "$UNDER_SYSTEMD" = 1 ]; then
  systemctl --no-block poweroff
  exit 0
fi
udevadm control --exit 2>/dev/null
umount /boot/efi 2>/dev/null
sync
if ! mount -o remount,ro / 2>/dev/null; then
  echo u >/proc/sysrq-trigger
  sleep 5
fi
echo o >/proc/sysrq-trigger
sleep 30
