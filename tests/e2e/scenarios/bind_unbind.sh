# Scenario "bind_unbind": bind moves a GPU's whole IOMMU group to vfio-pci on a real
# kernel (/dev/vfio/N appears); unbind gives every function back the driver it had -
# bochs-drm for the display function, none for its audio function.
DISPLAY_FN=$(by_class 0380)
AUDIO_FN=$(by_class 0403)
ATI=$(for a in $(by_class 0300); do [ "$(cat /sys/bus/pci/devices/$a/boot_vga)" = 0 ] && echo "$a"; done)
[ -n "$DISPLAY_FN" ] && [ -n "$AUDIO_FN" ] && [ -n "$ATI" ] || fail "lab devices not found"
# (The driverless ATI GPU is bind_nodriver.sh: one boot each keeps both under a minute.)
G=$(group_of "$DISPLAY_FN")
[ "$(driver_of "$DISPLAY_FN")" = bochs-drm ] || fail "display starts with $(driver_of "$DISPLAY_FN"), not bochs-drm"
pci_state /tmp/before.state

# Named by its audio function: the whole group moves all the same.
run bind exliar --yes bind "$AUDIO_FN"
expect_rc bind 0
for a in "$DISPLAY_FN" "$AUDIO_FN"; do
  [ "$(driver_of "$a")" = vfio-pci ] || fail "after bind $a has driver $(driver_of "$a")"
done
[ -c "/dev/vfio/$G" ] || fail "/dev/vfio/$G missing after bind: $(ls /dev/vfio)"
[ "$(driver_of "$ATI")" = - ] || fail "bind touched $ATI outside the group"

run unbind exliar --yes unbind "$DISPLAY_FN"
expect_rc unbind 0
[ "$(driver_of "$DISPLAY_FN")" = bochs-drm ] || fail "unbind left $DISPLAY_FN with $(driver_of "$DISPLAY_FN"), not bochs-drm"
[ "$(driver_of "$AUDIO_FN")" = - ] || fail "unbind left $AUDIO_FN with $(driver_of "$AUDIO_FN")"
[ -e "/dev/vfio/$G" ] && fail "/dev/vfio/$G still there after unbind"
expect_unchanged "bind+unbind of $DISPLAY_FN" /tmp/before.state
