// Why this runs before the native drivers bind, at every stage of boot:
//
// 1. The kernel enumerates PCI devices before the initramfs starts, so every
//    /sys/bus/pci/devices/<addr>/driver_override exists when any userspace runs.
// 2. Native GPU drivers are modules loaded later, by modprobe (udev coldplug, or the
//    initramfs generator's early module list). exliar's modprobe.d file says
//    `softdep <native> pre: vfio-pci` for every native driver of the passed functions, so
//    loading amdgpu/nouveau/snd_hda_intel/... first loads vfio-pci.
// 3. Loading vfio-pci runs this script first, through `install vfio-pci ...` in the same
//    file (modprobe.d(5): an install command replaces the insertion; the script inserts
//    the module itself with --ignore-install). udev's builtin kmod uses libkmod, which
//    honours install commands the same way.
// 4. The script writes vfio-pci into driver_override of each listed address. From then on
//    only vfio-pci may bind those devices (Documentation/ABI/testing/sysfs-bus-pci,
//    driver_override), so the native driver that loads next skips them, while an
//    identical card at another address keeps its native driver.
// The modprobe.d file, this script and the address list are copied into the initramfs by
// each backend (FILES / install_items / a copy_file hook), because the native driver
// usually loads from there.
// A built-in vfio-pci is never "loaded", so its install rule never runs (libkmod skips
// modules already in the kernel before looking at install commands). When some installed
// kernel has vfio-pci built in, the same rule is also put on every native module: the
// script marks the devices, probes them (the registered vfio-pci binds them), and only
// then loads the native module it was called for. A device that a built-in driver grabbed before
// any of this ran is unbound and re-probed, and the script says so on the kernel log.
#include "modules/early_bind.h"

#include "host/paths.h"
#include "host/text.h"

namespace exliar {

std::string early_bind_addresses(const std::vector<PciAddress>& addrs) {
  std::string s =
      "# Written by exliar; `exliar rollback` removes it.\n"
      "# PCI functions that vfio-pci claims at boot, by address (read by ";
  s += std::string(paths::kExliarEarlyBindScript) + ").\n";
  for (const auto& a : addrs) s += a.str() + "\n";
  return s;
}

std::string early_bind_script() {
  std::string devices(paths::kPciDevices);
  std::string s = "#!/bin/sh\n";
  s += "# Written by exliar; `exliar rollback` removes it.\n"
       "# Run by modprobe (`install vfio-pci` in exliar-vfio.conf) just before vfio-pci is\n"
       "# loaded, in the initramfs and on the running system. It marks the PCI functions\n"
       "# listed in the address file for vfio-pci (driver_override), so their native drivers,\n"
       "# loaded after vfio-pci through softdeps, cannot take them; identical devices at\n"
       "# other addresses are untouched. Then it loads the module it was called for\n"
       "# (vfio-pci, or a native driver when vfio-pci is built into the kernel).\n";
  s += "PATH=" + std::string(paths::kScriptSearchPath) + "\n";
  s += "module=${1:-vfio-pci}\n[ $# -gt 0 ] && shift\n";
  s += "list=" + std::string(paths::kExliarEarlyBindAddresses) + "\n";
  s += "devices=" + devices + "\n";
  s += "probe=" + std::string(paths::kPciDriversProbe) + "\n";
  s += "kmsg=" + std::string(paths::kDevKmsg) + "\n";
  s += "log() { echo \"exliar-early-bind: $*\" > \"$kmsg\" 2>/dev/null || echo "
       "\"exliar-early-bind: $*\" >&2; }\n"
       "bound=\"\"\n"
       "if [ -r \"$list\" ]; then\n"
       "  while read -r addr rest; do\n"
       "    case \"$addr\" in ''|'#'*) continue ;; esac\n"
       "    dev=\"$devices/$addr\"\n"
       "    if [ ! -w \"$dev/driver_override\" ]; then\n"
       "      log \"$addr: no such PCI device; left alone\"\n"
       "      continue\n"
       "    fi\n"
       "    echo vfio-pci > \"$dev/driver_override\"\n"
       "    if [ -e \"$dev/driver\" ]; then\n"
       "      drv=$(basename \"$(readlink \"$dev/driver\")\")\n"
       "      if [ \"$drv\" != vfio-pci ]; then\n"
       "        log \"$addr: taken by $drv before vfio-pci loaded; unbinding it\"\n"
       "        echo \"$addr\" > \"$dev/driver/unbind\"\n"
       "      fi\n"
       "    fi\n"
       "    bound=\"$bound $addr\"\n"
       "  done < \"$list\"\n"
       "else\n"
       "  log \"$list is missing; no device marked for vfio-pci\"\n"
       "fi\n"
       "modprobe --ignore-install \"$module\" \"$@\" || exit $?\n"
       "# vfio-pci binds marked devices when it registers; a device freed above needs a probe.\n"
       "# A built-in vfio-pci is already registered: the probe is what binds them then.\n"
       "for addr in $bound; do\n"
       "  [ -e \"$devices/$addr/driver\" ] || echo \"$addr\" > \"$probe\"\n"
       "done\n"
       "exit 0\n";
  return s;
}

std::string early_bind_install_rule(std::string_view module) {
  // $CMDLINE_OPTS carries options given on the modprobe command line (modprobe.d(5)).
  return "install " + std::string(module) + " " + std::string(paths::kBinSh) + " " +
         std::string(paths::kExliarEarlyBindScript) + " " + std::string(module) +
         " $CMDLINE_OPTS\n";
}

AddressList parse_early_bind_addresses(std::string_view text) {
  AddressList out;
  int n = 0;
  for (auto line : split_lines(text)) {
    ++n;
    auto t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    auto words = split_ws(t);
    auto a = parse_pci_address(words[0]);
    if (a && words[0].size() >= 12)
      out.addresses.push_back(*a);
    else
      out.bad_lines.push_back(n);
  }
  return out;
}

}  // namespace exliar
