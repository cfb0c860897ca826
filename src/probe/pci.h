#pragma once

#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// Scans /sys/bus/pci/devices: one PciDevice per function, sorted by address. A device
/// whose identity (uevent, else the vendor, device and class attributes) is missing or
/// malformed is left out and a note names the file; *complete (when given) says whether
/// every function the bus lists was read.
std::vector<PciDevice> scan_pci(const Fs& fs, std::vector<ProbeNote>& notes,
                                bool* complete = nullptr);

/// What a PCI function's `uevent` says (drivers/pci/pci-driver.c pci_uevent():
/// "PCI_CLASS=%04X", "PCI_ID=%04X:%04X", "PCI_SUBSYS_ID=%04X:%04X"; DRIVER= from
/// drivers/base/core.c dev_uevent() when bound). Pure; nullopt without a valid PCI_ID and
/// PCI_CLASS, or with any of these keys malformed.
struct PciUevent {
  std::uint16_t vendor_id = 0, device_id = 0;
  std::uint32_t class_code = 0;
  std::optional<std::uint16_t> subsystem_vendor_id, subsystem_device_id;
  std::optional<std::string> driver;
};
std::optional<PciUevent> parse_pci_uevent(std::string_view text);

/// Fills vendor_name/device_name from the first pci.ids found under the root, else (when
/// the root is not "/") from the host's; returns where the names came from, as the user
/// finds it ("DIR/usr/share/misc/pci.ids", "the host's /usr/share/misc/pci.ids"), or
/// nullopt (names stay empty and output shows bracketed IDs).
std::optional<std::string> name_devices(const Fs& fs, std::vector<PciDevice>& devices,
                                        std::vector<ProbeNote>& notes);

}  // namespace exliar
