# Scenario "refusals": bind refuses, with a reason, the boot VGA that carries the console
# and the network device of the default route; an unknown address is an error. Each
# refusal exits non-zero and changes nothing.
BOOT_VGA=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 1 ] && echo "$a"; done)
NIC=$(by_class 0200)
IFACE=$(ls "/sys/bus/pci/devices/$NIC/net" 2>/dev/null)
[ -n "$BOOT_VGA" ] && [ -n "$IFACE" ] || fail "lab devices not found (boot VGA '$BOOT_VGA', NIC '$NIC' '$IFACE')"
grep -q "frame buffer" /sys/class/vtconsole/vtcon*/name || fail "no fbcon console in the guest"
ip link set "$IFACE" up && ip route add default dev "$IFACE" || fail "cannot set a default route"
pci_state /tmp/before.state

run vga exliar --yes bind "$BOOT_VGA"
[ "$RC" != 0 ] || fail "bind of the boot VGA $BOOT_VGA succeeded"
expect_grep vga /tmp/vga.err console
expect_unchanged "refused bind of $BOOT_VGA" /tmp/before.state

run nic exliar --yes bind "$NIC"
[ "$RC" != 0 ] || fail "bind of the default route's NIC $NIC succeeded"
expect_grep nic /tmp/nic.err "route"
expect_unchanged "refused bind of $NIC" /tmp/before.state

run unknown exliar --yes bind 0000:0f:1f.7
[ "$RC" != 0 ] || fail "bind of a missing device succeeded"
expect_grep unknown /tmp/unknown.err "0000:0f:1f.7"
expect_unchanged "bind of a missing device" /tmp/before.state
