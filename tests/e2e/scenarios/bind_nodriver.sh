# Scenario "bind_nodriver": a GPU no native driver claims (the ATI VGA behind root port 1)
# goes to vfio-pci (/dev/vfio/N appears) and back to no driver, override cleared.
ATI=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"; done)
[ -n "$ATI" ] || fail "lab devices not found"
pci_state /tmp/before.state
run bind_ati exliar --yes bind "$ATI"
expect_rc bind_ati 0
[ "$(driver_of "$ATI")" = vfio-pci ] || fail "after bind $ATI has driver $(driver_of "$ATI")"
[ -c "/dev/vfio/$(group_of "$ATI")" ] || fail "/dev/vfio/$(group_of "$ATI") missing"
run unbind_ati exliar --yes unbind "$ATI"
expect_rc unbind_ati 0
expect_unchanged "bind+unbind of $ATI" /tmp/before.state
