// Measuring a device through the VFIO API: what `exliar test ADDR` observes. This is the
// one place exliar issues VFIO ioctls. It records raw observations only (config bytes
// before and after each reset, region sizes, ROM bytes, timings); what they mean is
// decided by analyze/selftest.h, a pure function over this record, so the interpretation
// can be tested on recorded results without a device.
//
// References: the kernel's include/uapi/linux/vfio.h (container, group, device fd,
// VFIO_DEVICE_GET_INFO / GET_REGION_INFO / RESET / GET_PCI_HOT_RESET_INFO / PCI_HOT_RESET)
// and Documentation/driver-api/vfio.rst ("VFIO Usage Example").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// One VFIO region (VFIO_PCI_BAR0..5, ROM = 6, CONFIG = 7).
struct VfioRegion {
  std::uint32_t index = 0;
  std::uint32_t flags = 0;  ///< VFIO_REGION_INFO_FLAG_READ/WRITE/MMAP
  std::uint64_t size = 0;
};

/// How a reset was issued: per function (VFIO_DEVICE_RESET, the kernel picks FLR, PM,
/// slot or bus reset) or as a bus hot reset of every device behind the same bridge
/// (VFIO_DEVICE_PCI_HOT_RESET, what QEMU does when the function has no reset of its own).
enum class ResetKind { none, function, hot };
const char* to_string(ResetKind);

struct ResetAttempt {
  bool ok = false;                   ///< the ioctl returned 0
  std::string error;                 ///< strerror when it did not
  double ms = 0;                     ///< wall time of the ioctl
  std::vector<std::uint8_t> config;  ///< config space read back right after
};

struct VfioMeasurement {
  PciAddress address;
  std::uint16_t vendor_id = 0, device_id = 0;  ///< from the inventory (sysfs)
  int group = -1;
  std::optional<std::string> reset_methods;  ///< sysfs reset_method ("" = none listed)
  std::uint32_t device_flags = 0;            ///< VFIO_DEVICE_GET_INFO flags
  std::uint32_t num_regions = 0;
  std::vector<VfioRegion> regions;
  /// Groups a bus hot reset would touch (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO); empty when
  /// the kernel offers none (-ENODEV).
  std::vector<int> hot_reset_groups;
  ResetKind reset_kind = ResetKind::none;
  std::vector<std::uint8_t> config_before;  ///< the whole config region
  std::vector<ResetAttempt> resets;
  std::vector<std::uint8_t> rom;  ///< ROM region bytes, or sysfs rom
  std::string rom_source;         ///< "vfio", "sysfs" or "" (none)
  std::string rom_note;           ///< why there is no ROM, when there is none
  std::optional<std::string> link_speed, link_width, max_link_speed, max_link_width;
  std::string measured_at;  ///< UTC, ISO 8601
};

/// Opens the container, the device's group and the device (the group must be viable:
/// every member bound to vfio-pci or to no driver), records the device info and regions,
/// issues `resets` resets and reads config space after each, and reads the ROM. Live
/// machine only. Errors name the VFIO call that failed and the errno text.
Result<VfioMeasurement> measure_vfio(Fs& fs, const PciDevice& dev, int resets);

}  // namespace exliar
