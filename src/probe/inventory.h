// What probe() finds on a host: plain values, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace exliar {

struct Distro {
  std::optional<std::string> id;
  std::vector<std::string> id_like;
  std::optional<std::string> version_id;
  std::optional<std::string> pretty_name;
  std::string source;  ///< file it was read from ("" when none)
};

enum class CpuVendor { unknown, intel, amd };
enum class Virtualization { none, vmx, svm };
enum class Bootloader { unknown, grub, systemd_boot, kernelstub };
enum class InitSystem { unknown, systemd, openrc, runit, sysvinit };
enum class Initramfs { unknown, mkinitcpio, dracut, initramfs_tools, booster };
enum class SecureBoot { unknown, enabled, disabled, not_efi };

struct Cpu {
  CpuVendor vendor = CpuVendor::unknown;
  std::optional<std::string> model;
  Virtualization virtualization = Virtualization::none;
  bool hypervisor = false;  ///< running as a VM guest ("hypervisor" cpu flag)
};

struct IommuState {
  bool active = false;  ///< the kernel created IOMMU groups
  int group_count = 0;
  std::vector<std::string> cmdline;  ///< IOMMU-related tokens of /proc/cmdline
};

struct System {
  std::optional<std::string> kernel;
  Distro distro;
  Cpu cpu;
  Bootloader bootloader = Bootloader::unknown;
  std::string bootloader_evidence;  ///< which file decided it
  InitSystem init = InitSystem::unknown;
  Initramfs initramfs = Initramfs::unknown;
  std::string initramfs_evidence;
  SecureBoot secure_boot = SecureBoot::unknown;
  IommuState iommu;
  std::optional<std::string> cmdline;  ///< /proc/cmdline as read
};

/// Domain, bus, device, function.
struct PciAddress {
  std::uint32_t domain = 0;
  std::uint8_t bus = 0, dev = 0, fn = 0;
  std::string str() const;   ///< "0000:01:00.0"
  std::string slot() const;  ///< "0000:01:00"
  auto operator<=>(const PciAddress&) const = default;
  /// Same domain:bus:device (cheap; slot() formats a string).
  bool same_slot(const PciAddress& o) const {
    return domain == o.domain && bus == o.bus && dev == o.dev;
  }
};
/// Accepts "0000:01:00.0" and the short "01:00.0".
std::optional<PciAddress> parse_pci_address(std::string_view s);

struct PciDevice {
  PciAddress address;
  std::uint16_t vendor_id = 0, device_id = 0;
  std::optional<std::uint16_t> subsystem_vendor_id, subsystem_device_id;
  std::uint32_t class_code = 0;  ///< 24-bit base/sub/prog-if
  std::optional<std::uint8_t> revision;
  std::optional<std::string> vendor_name, device_name;
  std::optional<std::string> driver;
  std::optional<int> iommu_group;
  bool boot_vga = false;
  std::optional<PciAddress> parent;  ///< upstream bridge, from the sysfs directory nesting
  std::string sysfs_path;            ///< canonical path under /sys/devices
  std::map<std::string, std::string> annotations;  ///< from plugins

  std::uint8_t base_class() const { return static_cast<std::uint8_t>(class_code >> 16); }
  std::uint16_t class_sub() const { return static_cast<std::uint16_t>(class_code >> 8); }
  bool is_bridge() const { return class_sub() == 0x0604; }
  bool is_display() const { return base_class() == 0x03; }
  /// The classes the kernel treats as VGA and gives a boot_vga attribute (include/linux/
  /// pci.h pci_is_vga(): PCI_CLASS_DISPLAY_VGA, and PCI_CLASS_NOT_DEFINED_VGA of pre-2.0
  /// devices).
  bool is_vga_class() const { return class_sub() == 0x0300 || class_sub() == 0x0001; }
};

struct IommuGroup {
  int id = 0;
  std::vector<PciAddress> devices;  ///< sorted
};

enum class GpuVendor { other, nvidia, amd, intel };
enum class Isolation { no_iommu, isolated, shared };

struct Gpu {
  PciAddress address;
  GpuVendor vendor = GpuVendor::other;
  std::vector<PciAddress> functions;  ///< every function of the slot, GPU first
  bool integrated = false;
  bool boot_vga = false;
  std::optional<int> iommu_group;
  Isolation isolation = Isolation::no_iommu;
  std::vector<PciAddress> shared_with;  ///< non-bridge outsiders in the group
};

/// A problem met while probing that the user should see (unreadable optional data).
struct ProbeNote {
  std::string path;
  std::string message;
};

struct Inventory {
  System system;
  std::vector<PciDevice> devices;  ///< sorted by address
  std::vector<IommuGroup> groups;  ///< sorted by id
  std::vector<Gpu> gpus;           ///< sorted by address
  std::vector<ProbeNote> notes;
  std::optional<std::string> pci_ids_path;

  const PciDevice* find(const PciAddress& a) const;
  const Gpu* find_gpu(const PciAddress& a) const;
  const IommuGroup* find_group(int id) const;
};

// Names used in JSON and text output.
const char* to_string(CpuVendor);
const char* to_string(Virtualization);
const char* to_string(Bootloader);
const char* to_string(InitSystem);
const char* to_string(Initramfs);
const char* to_string(SecureBoot);
const char* to_string(GpuVendor);
const char* to_string(Isolation);

}  // namespace exliar
