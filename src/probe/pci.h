#pragma once

#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// Scans /sys/bus/pci/devices: one PciDevice per function, sorted by address. A device
/// whose required attributes (vendor, device, class) are missing or malformed is left out
/// and a note names the file.
std::vector<PciDevice> scan_pci(const Fs& fs, std::vector<ProbeNote>& notes);

/// Fills vendor_name/device_name from the first pci.ids found under the root, else (when
/// the root is not "/") from the host's; returns where the names came from, as the user
/// finds it ("DIR/usr/share/misc/pci.ids", "the host's /usr/share/misc/pci.ids"), or
/// nullopt (names stay empty and output shows bracketed IDs).
std::optional<std::string> name_devices(const Fs& fs, std::vector<PciDevice>& devices,
                                        std::vector<ProbeNote>& notes);

}  // namespace exliar
