# e2e: devices=single
# Scenario "vm_single_gpu": the boot VGA is the guest's only GPU, bochs-drm drives it and
# fbcon draws the console on it; a "display manager" holds /dev/dri/card0. `vm enable
# --single-gpu` installs the libvirt dispatcher, which is then called exactly as libvirt
# does (argv, domain XML on stdin). prepare refuses while a stray process holds card0 (and
# names it, and restarts the display manager); once it is gone, prepare stops the display
# manager, unbinds fbcon, unloads bochs and binds the group to vfio-pci; release gives it
# all back; a second release changes nothing.
VGA=$(by_class 0300)
[ "$(echo "$VGA" | wc -w)" = 1 ] || fail "expected one VGA, found '$VGA'"
[ "$(driver_of "$VGA")" = bochs-drm ] || fail "$VGA starts with $(driver_of "$VGA"), not bochs-drm"
fbcon_bound || fail "no bound fbcon console at start"
G=$(group_of "$VGA")
modprobe_setup
display_manager_setup /dev/dri/card0
dm_running || fail "the lab display manager did not start"
HOOK=/etc/libvirt/hooks/qemu.d/exliar
echo "<domain type='kvm'><name>lab</name></domain>" >/tmp/domain.xml

run enable exliar --yes vm enable lab --gpu "$VGA" --single-gpu
expect_rc enable 0
expect_grep enable /tmp/enable.err "restart libvirtd"
[ -x "$HOOK" ] || fail "no executable dispatcher at $HOOK"

# libvirt calls the hook for every domain: an unmanaged one is a silent, fast exit 0.
T0=$(cut -d' ' -f1 /proc/uptime)
run other "$HOOK" otherdomain prepare begin - </tmp/domain.xml
T1=$(cut -d' ' -f1 /proc/uptime)
expect_rc other 0
[ -s /tmp/other.out ] || [ -s /tmp/other.err ] && fail "the hook spoke for an unmanaged domain"
say "E2E-MEASURE unmanaged $(awk "BEGIN{print $T1-$T0}")"

sleep 100000 </dev/dri/card0 &
STRAY=$!
pci_state /tmp/before.state
run refused "$HOOK" lab prepare begin - </tmp/domain.xml
[ "$RC" != 0 ] || fail "prepare succeeded while pid $STRAY held /dev/dri/card0"
expect_grep refused /tmp/refused.err "sleep (pid $STRAY) holds /dev/dri/card0"
expect_unchanged "refused prepare" /tmp/before.state
dm_running || fail "the display manager was not started again after the refusal"
grep -q '^stop display-manager.service' /tmp/systemctl.log || fail "prepare did not stop the display manager: $(cat /tmp/systemctl.log)"
fbcon_bound || fail "the console is not bound after the refusal"
[ -e /run/exliar/vm-lab.json ] && fail "a refused prepare left its state file"
kill "$STRAY"
wait "$STRAY" 2>/dev/null
: >/tmp/systemctl.log

T0=$(cut -d' ' -f1 /proc/uptime)
run prepare "$HOOK" lab prepare begin - </tmp/domain.xml
T1=$(cut -d' ' -f1 /proc/uptime)
expect_rc prepare 0
say "E2E-MEASURE prepare $(awk "BEGIN{print $T1-$T0}")"
[ "$(driver_of "$VGA")" = vfio-pci ] || fail "after prepare $VGA has driver $(driver_of "$VGA")"
[ -c "/dev/vfio/$G" ] || fail "/dev/vfio/$G missing after prepare"
dm_running && fail "the display manager still runs while the VM has the GPU"
fbcon_bound && fail "fbcon is still bound while the VM has the GPU"
[ -e /dev/fb0 ] && fail "/dev/fb0 still exists: the framebuffer was not released"
grep -q '^bochs ' /proc/modules && fail "bochs is still loaded"
run status exliar status
expect_grep status /tmp/status.out "with VM lab since"
run list exliar vm list
expect_grep list /tmp/list.out "GPU with the VM since"

T0=$(cut -d' ' -f1 /proc/uptime)
run release "$HOOK" lab release end - </tmp/domain.xml
T1=$(cut -d' ' -f1 /proc/uptime)
expect_rc release 0
say "E2E-MEASURE release $(awk "BEGIN{print $T1-$T0}")"
[ "$(driver_of "$VGA")" = bochs-drm ] || fail "after release $VGA has driver $(driver_of "$VGA")"
fbcon_bound || fail "fbcon is not bound again after release"
[ -e /dev/fb0 ] || fail "no /dev/fb0 after release"
dm_running || fail "the display manager was not started again"
[ -e /run/exliar/vm-lab.json ] && fail "release left its state file"
# The display manager is a new process: compare the PCI state, not the pids.
expect_unchanged "prepare+release" /tmp/before.state
cp /tmp/systemctl.log /tmp/systemctl.before
run release2 "$HOOK" lab release end - </tmp/domain.xml
expect_rc release2 0
expect_unchanged "a second release" /tmp/before.state
cmp -s /tmp/systemctl.log /tmp/systemctl.before || fail "a second release called systemctl"
[ -s /tmp/release2.err ] && fail "a second release said something: $(cat /tmp/release2.err)"

run disable exliar --yes vm disable lab
expect_rc disable 0
[ -e "$HOOK" ] && fail "vm disable left the dispatcher"
emit systemctl.log /tmp/systemctl.log
