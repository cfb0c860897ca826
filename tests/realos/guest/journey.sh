# The user's journey, one phase per boot (sourced by init.sh; POSIX sh, dash in the guest).
# Installed into each run's copy of the disk (journey.py), so it is not part of the
# cached image; the setup phase is (setup.sh).
#   boot0  baseline facts, then `exliar check`, `plan`, `apply --yes` on the real /;
#   boot1  facts after the reboot, `exliar status`, `rollback --yes`;
#   boot1r the recovery entry (RECOVERY=1): facts, `status`, `rollback --yes`;
#   boot2  facts after the second reboot, `exliar status`;
#   boot3  facts only (after a failed apply: must equal the baseline).
# Facts land in /e2e/out/<name>.<boot> (read out of the image by journey.py, which judges
# across boots) and on the data channel. /e2e/params (written by the host) selects:
#   GPU=ati|bochs   the device to pass: ati-vga (no driver) or bochs-display + HDA
#                   (bound at boot by bochs-drm and snd_hda_intel)
#   FAULT=none|hook   make the regeneration fail during apply: an initramfs-tools hook
#                   of the user's (as a DKMS or ZFS hook can) that fails once, on the
#                   first image build after boot0's facts, then works again
#                   (so the rollback's own rebuild can succeed)
#   RECOVERY=1      boot1 chooses GRUB's recovery entry for boot1r, which rolls back
GPU=ati
FAULT=none
[ -f /e2e/params ] && . /e2e/params

# The function to pass, found by class (machine.py devices), never by a fixed address.
gpu_addr() {
  case "$GPU" in
    ati) for a in $(by_class 0300); do
           [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"
         done ;;
    bochs) by_class 0380 ;;
  esac
}

# tree_state: path, type, mode, owner, size/link and checksum of everything under /etc and
# the boot files (/boot with the ESP mounted at /boot/efi). A handful of processes, not a
# few per file: every fork is slow under TCG.
tree_state() {
  find /etc /boot | sort >/tmp/paths
  xargs stat -c '%n|%F|%a|%U:%G|%N' </tmp/paths
  while read -r p; do [ -f "$p" ] && [ ! -L "$p" ] && echo "$p"; done </tmp/paths | xargs md5sum
}

# copy_initrds NAME: the initramfs images themselves; the host compares what the kernel
# unpacks from them (initrd.py), since a rebuild stamps new times into the archive.
copy_initrds() {
  for f in /boot/initrd.img-* /boot/efi/*/*/initrd*; do
    [ -f "$f" ] && cp "$f" "$OUT/initrd.$1.$(echo "${f#/}" | tr / _)"
  done
}

# facts NAME: the kernel's view after this boot, saved and emitted.
facts() {
  cat /proc/cmdline >"$OUT/cmdline.$1"
  syswalk >"$OUT/sys.$1"
  ls -1 /dev/vfio >"$OUT/vfio.$1" 2>/dev/null || : >"$OUT/vfio.$1"
  gpu_addr >"$OUT/gpu.$1"
  tree_state >"$OUT/tree.$1"
  copy_initrds "$1"
  for f in cmdline sys vfio gpu; do emit "$f.$1" "$OUT/$f.$1"; done
}

FAULT_HOOK=/etc/initramfs-tools/hooks/zz-lab-flaky
FAULT_ARM=/run/realos-fault-armed

phase_boot0() {
  mark start
  if [ "$FAULT" = hook ]; then
    # Part of the baseline: installed before the facts, it stays through everything.
    printf '%s\n' '#!/bin/sh' '# A hook that fails once when armed (the realos lab).' \
      '[ "$1" = prereqs ] && exit 0' \
      "if [ -e $FAULT_ARM ]; then rm -f $FAULT_ARM; echo 'lab: flaky hook fails' >&2; exit 1; fi" \
      'exit 0' >"$FAULT_HOOK"
    chmod 755 "$FAULT_HOOK"
  fi
  facts boot0
  mark facts
  A=$(gpu_addr)
  [ -n "$A" ] || fail "no $GPU device found"
  xrun check exliar check --gpu "$A"
  xrun plan exliar plan --gpu "$A"
  expect_rc plan 0
  xrun planjson exliar --json plan --gpu "$A"
  expect_rc planjson 0
  [ "$FAULT" = hook ] && : >"$FAULT_ARM"
  xrun apply exliar --yes apply --gpu "$A"
  case "$FAULT" in
    none) expect_rc apply 0 ;;
    *) expect_rc apply 4
       [ -e "$FAULT_ARM" ] && fail "the flaky hook never ran: apply did not reach the regeneration"
       xrun status_after_fault exliar status ;;
  esac
  tree_state >"$OUT/tree.boot0.applied"
  copy_initrds boot0.applied
}

phase_boot1() {
  mark start
  facts boot1
  mark facts
  xrun status exliar status
  if [ "${RECOVERY:-0}" = 1 ]; then
    # The next boot takes GRUB's "(recovery mode)" entry once (grub-reboot(8) sets
    # next_entry in grubenv; the generated grub.cfg clears it when it boots it).
    SUB=$(sed -n "s/^submenu .*\$menuentry_id_option '\([^']*\)'.*/\1/p" /boot/grub/grub.cfg)
    REC=$(sed -n "s/^[[:space:]]*menuentry .*(recovery mode).*\$menuentry_id_option '\([^']*\)'.*/\1/p" /boot/grub/grub.cfg | head -n 1)
    [ -n "$SUB" ] && [ -n "$REC" ] || fail "no recovery entry in /boot/grub/grub.cfg"
    xrun grub_reboot grub-reboot "$SUB>$REC"
    expect_rc grub_reboot 0
    return
  fi
  xrun rollback exliar --yes rollback
  expect_rc rollback 0
}

# boot1r: the recovery entry, the host's way back. Its command line lacks what exliar put
# into GRUB_CMDLINE_LINUX_DEFAULT, the initramfs still binds the GPU; the boot GPU keeps its
# console, and `exliar rollback` run from here must restore the system.
phase_boot1r() {
  mark start
  facts boot1r
  mark facts
  xrun status_r exliar status
  # grub-reboot's next_entry is the test's own change to grubenv, not exliar's: undo it
  # so the boot files can be compared byte for byte with the baseline.
  xrun editenv grub-editenv /boot/grub/grubenv unset next_entry
  xrun rollback exliar --yes rollback
  expect_rc rollback 0
}

phase_boot2() {
  mark start
  facts boot2
  mark facts
  xrun status2 exliar status
}

phase_boot3() {
  mark start
  facts boot3
  xrun status3 exliar status
}
