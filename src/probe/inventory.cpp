#include "probe/inventory.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"

namespace exliar {

std::string PciAddress::str() const {
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain, bus, dev, fn);
}

std::string PciAddress::slot() const {
  return fmt::format("{:04x}:{:02x}:{:02x}", domain, bus, dev);
}

std::optional<PciAddress> parse_pci_address(std::string_view s) {
  s = trim(s);
  // [domain:]bus:dev.fn with hex fields; the domain may be longer than 4 digits (VMD).
  auto parts = split(s, ':');
  if (parts.size() == 2) parts.insert(parts.begin(), std::string_view("0000"));
  if (parts.size() != 3) return std::nullopt;
  auto dot = parts[2].find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto dom = parse_hex(parts[0]);
  auto bus = parse_hex(parts[1]);
  auto dev = parse_hex(parts[2].substr(0, dot));
  auto fn = parse_hex(parts[2].substr(dot + 1));
  if (!dom || !bus || !dev || !fn || parts[1].size() != 2 || dot != 2 || parts[2].size() != 4 ||
      *bus > 0xff || *dev > 0x1f || *fn > 7 || parts[0].size() < 4 || parts[0].size() > 8)
    return std::nullopt;
  PciAddress a;
  a.domain = *dom;
  a.bus = static_cast<std::uint8_t>(*bus);
  a.dev = static_cast<std::uint8_t>(*dev);
  a.fn = static_cast<std::uint8_t>(*fn);
  return a;
}

const PciDevice* Inventory::find(const PciAddress& a) const {
  auto it = std::lower_bound(devices.begin(), devices.end(), a,
                             [](const PciDevice& d, const PciAddress& x) { return d.address < x; });
  return it != devices.end() && it->address == a ? &*it : nullptr;
}

const Gpu* Inventory::find_gpu(const PciAddress& a) const {
  for (const auto& g : gpus)
    if (g.address == a) return &g;
  return nullptr;
}

const IommuGroup* Inventory::find_group(int id) const {
  for (const auto& g : groups)
    if (g.id == id) return &g;
  return nullptr;
}

const char* to_string(CpuVendor v) {
  switch (v) {
    case CpuVendor::intel:
      return "intel";
    case CpuVendor::amd:
      return "amd";
    default:
      return "unknown";
  }
}
const char* to_string(Virtualization v) {
  switch (v) {
    case Virtualization::vmx:
      return "vmx";
    case Virtualization::svm:
      return "svm";
    default:
      return "none";
  }
}
const char* to_string(Bootloader b) {
  switch (b) {
    case Bootloader::grub:
      return "grub";
    case Bootloader::systemd_boot:
      return "systemd-boot";
    case Bootloader::kernelstub:
      return "kernelstub";
    default:
      return "unknown";
  }
}
const char* to_string(InitSystem i) {
  switch (i) {
    case InitSystem::systemd:
      return "systemd";
    case InitSystem::openrc:
      return "openrc";
    case InitSystem::runit:
      return "runit";
    case InitSystem::sysvinit:
      return "sysvinit";
    default:
      return "unknown";
  }
}
const char* to_string(Initramfs i) {
  switch (i) {
    case Initramfs::mkinitcpio:
      return "mkinitcpio";
    case Initramfs::dracut:
      return "dracut";
    case Initramfs::initramfs_tools:
      return "initramfs-tools";
    case Initramfs::booster:
      return "booster";
    default:
      return "unknown";
  }
}
const char* to_string(SecureBoot s) {
  switch (s) {
    case SecureBoot::enabled:
      return "enabled";
    case SecureBoot::disabled:
      return "disabled";
    case SecureBoot::not_efi:
      return "not-efi";
    default:
      return "unknown";
  }
}
const char* to_string(GpuVendor v) {
  switch (v) {
    case GpuVendor::nvidia:
      return "nvidia";
    case GpuVendor::amd:
      return "amd";
    case GpuVendor::intel:
      return "intel";
    default:
      return "other";
  }
}
const char* to_string(Isolation i) {
  switch (i) {
    case Isolation::isolated:
      return "isolated";
    case Isolation::shared:
      return "shared";
    default:
      return "no-iommu";
  }
}

}  // namespace exliar
