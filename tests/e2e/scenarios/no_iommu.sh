# Scenario "no_iommu": the same machine booted without the emulated IOMMU.
# e2e: iommu=off
[ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ] || fail "the kernel created IOMMU groups"
run detect exliar detect --json
expect_rc detect 0
syswalk >/tmp/syswalk.txt
emit syswalk /tmp/syswalk.txt
run check exliar check
# bind must refuse (no group to move) and change nothing.
ATI=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"; done)
pci_state /tmp/before.state
run bind exliar --yes bind "$ATI"
expect_unchanged "bind of $ATI without an IOMMU" /tmp/before.state
# exliar test refuses before touching anything: VFIO needs the IOMMU (issue 21).
run vtest exliar --yes test --bind "$ATI"
expect_rc vtest 3
expect_grep vtest /tmp/vtest.err "IOMMU is off"
expect_unchanged "test of $ATI without an IOMMU" /tmp/before.state
