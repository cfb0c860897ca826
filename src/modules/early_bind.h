// Binding by PCI address at boot, for hosts where the guest GPU shares its vendor:device
// IDs with a device the host keeps (two identical cards, or an HDMI audio ID repeated
// across one family): `vfio-pci ids=` would take both, so the chosen addresses get
// driver_override=vfio-pci before any native driver binds. The addresses are data (one
// file), the script is fixed text; both go into the initramfs.
#pragma once

#include <string>
#include <vector>

#include "probe/inventory.h"

namespace exliar {

/// The address list read by the script: a comment header, then one address per line.
std::string early_bind_addresses(const std::vector<PciAddress>& addrs);
/// The POSIX sh script (no bashisms: it runs under busybox sh in mkinitcpio images).
std::string early_bind_script();
/// The modprobe.d line that runs the script whenever `module` is about to load (vfio-pci,
/// or a native module when vfio-pci is built in).
std::string early_bind_install_rule(std::string_view module = "vfio-pci");
/// Parses an address list back (for status and tests); bad lines are reported by number.
struct AddressList {
  std::vector<PciAddress> addresses;
  std::vector<int> bad_lines;
};
AddressList parse_early_bind_addresses(std::string_view text);

}  // namespace exliar
