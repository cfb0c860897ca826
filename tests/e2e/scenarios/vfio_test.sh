# Scenario "vfio_test": `exliar test --bind` measures the lab's GPUs through the real VFIO
# API (issue 21): it binds the group, resets N times, reads config space back, reads the
# ROM QEMU put in the ROM BAR, reports the BARs, and gives every device back its driver.
# The refusals change nothing. checks.py judges the JSON against the guest's own sysfs.
DISPLAY_FN=$(by_class 0380)
AUDIO_FN=$(by_class 0403)
ATI=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"; done)
BOOT_VGA=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 1 ] && echo "$a"; done)
[ -n "$DISPLAY_FN" ] && [ -n "$AUDIO_FN" ] && [ -n "$ATI" ] && [ -n "$BOOT_VGA" ] || fail "lab devices not found"
syswalk >/tmp/syswalk.txt
emit syswalk /tmp/syswalk.txt
for a in "$ATI" "$DISPLAY_FN"; do
  echo "$a $(cat /sys/bus/pci/devices/$a/reset_method 2>/dev/null)"
done >/tmp/reset_methods.txt
emit reset_methods /tmp/reset_methods.txt
pci_state /tmp/before.state

# Not on vfio-pci and no --bind: refused, with the way forward.
run notbound exliar test "$ATI"
expect_rc notbound 3
expect_grep notbound /tmp/notbound.err "exliar bind"
expect_unchanged "test without --bind" /tmp/before.state

# The driverless ATI VGA alone behind its root port.
run ati exliar --yes --json test --bind "$ATI"
expect_unchanged "test --bind $ATI" /tmp/before.state
[ -e "/var/lib/exliar/tests/$ATI.json" ] || fail "no stored result for $ATI"

# The bochs-display + HD audio pair, taken from bochs-drm and given back to it.
run display exliar --yes --json test --bind --resets 2 "$DISPLAY_FN"
[ "$(driver_of "$DISPLAY_FN")" = bochs-drm ] || fail "after test $DISPLAY_FN has $(driver_of "$DISPLAY_FN"), not bochs-drm"
expect_unchanged "test --bind $DISPLAY_FN" /tmp/before.state

# check reads the measurement back instead of the database's prediction.
run check exliar check --gpu "$ATI"

# The boot VGA drawing the console: refused by bind's safety check.
run bootvga exliar --yes test --bind "$BOOT_VGA"
[ "$RC" != 0 ] || fail "test --bind of the boot VGA $BOOT_VGA succeeded"
expect_grep bootvga /tmp/bootvga.err console
expect_unchanged "refused test of $BOOT_VGA" /tmp/before.state
