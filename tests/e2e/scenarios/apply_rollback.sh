# Scenario "apply_rollback": apply and rollback with --root on a writable copy of a test
# machine (Ubuntu, GRUB, initramfs-tools) whose sys is the guest's real sysfs: the plan
# is made for a real device, the result names its IDs, rollback restores every byte.
# e2e: machine=z370-ubuntu
R=/tmp/root
ATI=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"; done)
IDS="$(sed 's/^0x//' /sys/bus/pci/devices/$ATI/vendor):$(sed 's/^0x//' /sys/bus/pci/devices/$ATI/device)"
cp -a /e2e/machine "$R" && mkdir -p "$R/sys" && mount --bind /sys "$R/sys" || fail "cannot prepare $R"
# tree_state DIR: every path's type, mode and checksum. Left out: sys, exliar's journal
# (var/lib/exliar, which must outlive rollback to record it) and the var, var/lib
# directories holding it (a real root always has them; this fixture has no var).
tree_state() {
  # A handful of processes, not a few per file: every fork is slow under TCG.
  (cd "$1" && find . \( -path ./sys -o -path ./var/lib/exliar \) -prune -o \
    ! -path ./var ! -path ./var/lib -print | sort >/tmp/paths &&
    xargs stat -c '%N %F %a' </tmp/paths && grep -v '^\.$' /tmp/paths |
    while read -r p; do [ -f "$p" ] && [ ! -L "$p" ] && echo "$p"; done | xargs md5sum)
}
tree_state "$R" >/tmp/tree.before
pci_state /tmp/before.state

run apply exliar --root "$R" --yes apply --gpu "$ATI"
expect_rc apply 0
tree_state "$R" >/tmp/tree.applied
cmp -s /tmp/tree.before /tmp/tree.applied && fail "apply changed no file"
grep -rqs "$IDS" "$R/etc" || fail "no file under etc names $IDS after apply"
diff /tmp/tree.before /tmp/tree.applied >/tmp/tree.diff
emit tree.diff /tmp/tree.diff

run rollback exliar --root "$R" --yes rollback
expect_rc rollback 0
tree_state "$R" >/tmp/tree.after
cmp -s /tmp/tree.before /tmp/tree.after || fail "rollback is not byte-exact: $(diff /tmp/tree.before /tmp/tree.after | tr '\n' ' ' | head -c 600)"
# --root never touches the running system: the sysfs writes of a plan go nowhere live.
expect_unchanged "apply+rollback with --root" /tmp/before.state
umount "$R/sys"
