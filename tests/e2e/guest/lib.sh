# Helpers for scenario scripts (sourced by /init; busybox sh). Output protocol on fd 3,
# one record per line, parsed by lab.py:
#   E2E-BEGIN <name> / E2E-END <name>   a captured text between the two lines
#   E2E-RC <name> <code>                exit status of a captured command
#   E2E-FAIL <message>                  a guest-side assertion failed
#   E2E-RESULT PASS|FAIL <n>            last line; the guest's verdict
E2E_FAILS=0

say() { echo "$*" >&3; }
fail() { E2E_FAILS=$((E2E_FAILS + 1)); say "E2E-FAIL $*"; }

# emit NAME FILE: copies FILE to the data channel between markers (awk ends every line).
emit() {
  say "E2E-BEGIN $1"
  awk '{ print }' "$2" >&3
  say "E2E-END $1"
}

# run NAME CMD...: runs CMD, emits its stdout as NAME.out, stderr as NAME.err, and its
# exit code; RC holds the code, /tmp/NAME.out and /tmp/NAME.err the texts.
run() {
  _n=$1
  shift
  "$@" >"/tmp/$_n.out" 2>"/tmp/$_n.err"
  RC=$?
  emit "$_n.out" "/tmp/$_n.out"
  emit "$_n.err" "/tmp/$_n.err"
  say "E2E-RC $_n $RC"
  return 0
}

# expect_rc NAME WANT: the last run's exit code must be WANT.
expect_rc() { [ "$RC" = "$2" ] || fail "$1 exited $RC, expected $2: $(head -c 300 "/tmp/$1.err")"; }

# expect_grep NAME FILE REGEX: FILE must contain REGEX (case-insensitive).
expect_grep() { grep -qi -- "$3" "$2" || fail "$1: no /$3/ in $(head -c 300 "$2")"; }

# The kernel's own view of PCI, read with nothing but the shell: one "dev" line per
# function, one "group" line per IOMMU group. "-" marks an absent attribute.
syswalk() {
  for d in /sys/bus/pci/devices/*; do
    a=${d##*/}
    drv=-
    [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
    grp=-
    [ -e "$d/iommu_group" ] && grp=$(basename "$(readlink "$d/iommu_group")")
    bv=-
    [ -f "$d/boot_vga" ] && bv=$(cat "$d/boot_vga")
    parent=$(basename "$(dirname "$(readlink -f "$d")")")
    echo "dev $a $(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class") $drv $grp $bv $parent"
  done
  for g in /sys/kernel/iommu_groups/*; do
    [ -d "$g" ] || continue
    echo "group ${g##*/} $(ls "$g/devices" | tr '\n' ' ')"
  done
}

# driver_of ADDR: the bound driver's name, or "-".
driver_of() {
  if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
    basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
  else
    echo -
  fi
}

finish() {
  say "E2E-DONE $(cut -d' ' -f1 /proc/uptime)"
  if [ "$E2E_FAILS" = 0 ]; then say "E2E-RESULT PASS 0"; else say "E2E-RESULT FAIL $E2E_FAILS"; fi
  exec 3>&-  # closing the tty waits for its output to drain
  poweroff -f
}

# Addresses of the lab's devices, found by class (lab.py DEVICES), not hard-coded.
by_class() { for d in /sys/bus/pci/devices/*; do grep -q "^0x$1" "$d/class" && echo "${d##*/}"; done; }
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
override_of() { cat "/sys/bus/pci/devices/$1/driver_override"; }

# pci_state FILE: drivers, overrides and groups of every function (for "nothing changed").
pci_state() {
  for d in /sys/bus/pci/devices/*; do
    echo "${d##*/} $(driver_of "${d##*/}") $(cat "$d/driver_override")"
  done >"$1"
  ls /dev/vfio >>"$1" 2>/dev/null
}

# expect_unchanged NAME BEFORE: the PCI state equals the one saved in BEFORE.
expect_unchanged() {
  pci_state /tmp/after.state
  cmp -s "$2" /tmp/after.state || fail "$1 changed the PCI state: $(diff "$2" /tmp/after.state | tr '\n' ' ')"
}

# modprobe_setup: the lab loads modules with insmod from /lib/modules/*.ko; put copies where
# modprobe looks (/lib/modules/$(uname -r)) and index them, so `modprobe NAME` works too.
modprobe_setup() {
  _k=/lib/modules/$(uname -r)
  mkdir -p "$_k"
  cp /lib/modules/*.ko "$_k/"
  depmod || fail "depmod failed"
}

# display_manager_setup NODE: the guest has no systemd; this plays systemd's part for one
# unit so that exliar's single-GPU path meets a real process holding NODE: it marks the
# guest as booted by systemd (/run/systemd/system), installs the display-manager.service
# alias, and a `systemctl` that starts (stop kills) a "display manager" holding NODE open
# and logs every call to /tmp/systemctl.log.
display_manager_setup() {
  mkdir -p /run/systemd/system /etc/systemd/system /usr/lib/systemd/system /usr/bin
  : >/usr/lib/systemd/system/labdm.service
  ln -sf /usr/lib/systemd/system/labdm.service /etc/systemd/system/display-manager.service
  cat >/usr/bin/systemctl <<EOS
#!/bin/busybox sh
echo "\$*" >>/tmp/systemctl.log
pid=\$(cat /tmp/dm.pid 2>/dev/null)
case "\$1" in
  is-active) [ -n "\$pid" ] && [ -e "/proc/\$pid/fd/0" ] ;;
  stop) [ -n "\$pid" ] && kill "\$pid"; rm -f /tmp/dm.pid ;;
  start) sleep 100000 <"$1" >/dev/null 2>&1 & echo \$! >/tmp/dm.pid ;;
  *) exit 1 ;;
esac
EOS
  chmod 755 /usr/bin/systemctl
  systemctl start display-manager.service
  : >/tmp/systemctl.log
}
dm_running() { _p=$(cat /tmp/dm.pid 2>/dev/null) && [ -e "/proc/$_p/fd/0" ]; }

# fbcon_bound: some virtual console is fbcon and bound.
fbcon_bound() {
  for v in /sys/class/vtconsole/vtcon*; do
    grep -q "frame buffer" "$v/name" && [ "$(cat "$v/bind")" = 1 ] && return 0
  done
  return 1
}
