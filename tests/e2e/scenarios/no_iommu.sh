# Scenario "no_iommu": the same machine booted without the emulated IOMMU.
# e2e: iommu=off
[ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ] || fail "the kernel created IOMMU groups"
run detect exliar detect --json
expect_rc detect 0
syswalk >/tmp/syswalk.txt
emit syswalk /tmp/syswalk.txt
run check exliar check
