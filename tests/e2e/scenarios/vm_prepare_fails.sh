# e2e: devices=single
# Scenario "vm_prepare_fails": single-GPU prepare fails at its last step (5 of 5 here: the
# lab has no firmware framebuffer) (binding to
# vfio-pci, whose module was made unloadable) after it stopped the display manager,
# unbound fbcon and unloaded bochs: every step is undone in reverse and the host has its
# driver, console and display manager back.
VGA=$(by_class 0300)
[ "$(driver_of "$VGA")" = bochs-drm ] || fail "$VGA starts with $(driver_of "$VGA"), not bochs-drm"
modprobe_setup
display_manager_setup /dev/dri/card0
HOOK=/etc/libvirt/hooks/qemu.d/exliar
run enable exliar --yes vm enable lab --gpu "$VGA" --single-gpu
expect_rc enable 0
# The step made to fail: vfio-pci is unloaded and its module file removed.
rmmod vfio_pci || fail "cannot unload vfio_pci"
rm -f "/lib/modules/$(uname -r)/vfio_pci.ko" "/lib/modules/$(uname -r)/vfio-pci.ko"
modprobe vfio_pci 2>/dev/null && fail "vfio_pci still loads"
depmod
pci_state /tmp/before.state
run prepare "$HOOK" lab prepare begin - </dev/null
[ "$RC" != 0 ] || fail "prepare succeeded without vfio-pci"
expect_grep prepare /tmp/prepare.err "step 5 of 5 (bind IOMMU group"
expect_grep prepare /tmp/prepare.err "undone"
[ "$(driver_of "$VGA")" = bochs-drm ] || fail "after the failed prepare $VGA has driver $(driver_of "$VGA")"
fbcon_bound || fail "fbcon is not bound again after the failed prepare"
dm_running || fail "the display manager was not started again"
grep -q '^bochs ' /proc/modules || fail "bochs was not loaded again"
expect_unchanged "the failed prepare" /tmp/before.state
[ -e /run/exliar/vm-lab.json ] && fail "the failed prepare left its state file"
run status exliar status
expect_rc status 0
emit systemctl.log /tmp/systemctl.log
