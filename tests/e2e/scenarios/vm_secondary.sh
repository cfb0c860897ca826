# Scenario "vm_secondary": the ATI VGA behind its root port is a secondary GPU (not the
# boot VGA): prepare binds its group without single-GPU steps (no display manager, console
# or module is touched), release gives it back, a second release changes nothing. A
# foreign /etc/libvirt/hooks/qemu stays byte for byte as it was.
ATI=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"; done)
[ -n "$ATI" ] || fail "no secondary VGA in the lab"
G=$(group_of "$ATI")
mkdir -p /etc/libvirt/hooks
printf '#!/bin/sh\n# somebody else'"'"'s hook\nexit 0\n' >/etc/libvirt/hooks/qemu
chmod 755 /etc/libvirt/hooks/qemu
cp /etc/libvirt/hooks/qemu /tmp/foreign.hook
HOOK=/etc/libvirt/hooks/qemu.d/exliar
run enable exliar --yes vm enable lab2 --gpu "$ATI"
expect_rc enable 0
grep -q "restart libvirtd" /tmp/enable.err && fail "asked for a libvirtd restart although a qemu hook existed"
pci_state /tmp/before.state
fbcon_bound || fail "no bound fbcon console at start"
T0=$(cut -d' ' -f1 /proc/uptime)
run prepare "$HOOK" lab2 prepare begin - </dev/null
T1=$(cut -d' ' -f1 /proc/uptime)
expect_rc prepare 0
say "E2E-MEASURE prepare $(awk "BEGIN{print $T1-$T0}")"
[ "$(driver_of "$ATI")" = vfio-pci ] || fail "after prepare $ATI has driver $(driver_of "$ATI")"
[ -c "/dev/vfio/$G" ] || fail "/dev/vfio/$G missing after prepare"
fbcon_bound || fail "a secondary prepare touched the console"
grep -q '^bochs ' /proc/modules || fail "a secondary prepare unloaded bochs"
for k in stop-service vtcon-unbind fb-unbind unload-module; do
  grep -q "$k" /run/exliar/vm-lab2.json && fail "secondary mode recorded a $k step"
done
T0=$(cut -d' ' -f1 /proc/uptime)
run release "$HOOK" lab2 release end - </dev/null
T1=$(cut -d' ' -f1 /proc/uptime)
expect_rc release 0
say "E2E-MEASURE release $(awk "BEGIN{print $T1-$T0}")"
expect_unchanged "prepare+release of $ATI" /tmp/before.state
run release2 "$HOOK" lab2 release end - </dev/null
expect_rc release2 0
expect_unchanged "a second release" /tmp/before.state
run disable exliar --yes vm disable lab2
expect_rc disable 0
cmp -s /etc/libvirt/hooks/qemu /tmp/foreign.hook || fail "the foreign qemu hook changed"
[ -e "$HOOK" ] && fail "vm disable left the dispatcher"
