// Minimal hand-built Inventory values for gpu and analyze tests.
#pragma once

#include <algorithm>

#include "gpu/classify.h"
#include "gpu/db.h"
#include "probe/inventory.h"
#include "probe/iommu.h"

namespace exliar::testing {

inline PciAddress addr(const char* s) { return *parse_pci_address(s); }

struct FakeInventory {
  Inventory inv;

  FakeInventory() {
    inv.system.kernel = "6.8.0-45-generic";
    inv.system.cpu.vendor = CpuVendor::amd;
    inv.system.cpu.virtualization = Virtualization::svm;
    inv.system.iommu.active = true;
    inv.system.secure_boot = SecureBoot::disabled;
    inv.system.cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet";
  }

  /// Adds a function; group < 0 = no group.
  PciDevice& add(const char* a, std::uint16_t vendor, std::uint16_t device, std::uint32_t cls,
                 int group, std::optional<std::uint8_t> rev = std::nullopt,
                 const char* parent = nullptr) {
    PciDevice d;
    d.address = addr(a);
    d.vendor_id = vendor;
    d.device_id = device;
    d.class_code = cls;
    d.revision = rev;
    if (group >= 0) d.iommu_group = group;
    if (parent) d.parent = addr(parent);
    inv.devices.push_back(d);
    std::sort(inv.devices.begin(), inv.devices.end(),
              [](const PciDevice& x, const PciDevice& y) { return x.address < y.address; });
    return *std::find_if(inv.devices.begin(), inv.devices.end(),
                         [&](const PciDevice& x) { return x.address == addr(a); });
  }

  /// Rebuilds groups from the devices' iommu_group and runs the probe's GPU finder.
  const Inventory& done() {
    inv.groups.clear();
    if (inv.system.iommu.active) {
      for (const auto& d : inv.devices) {
        if (!d.iommu_group) continue;
        auto it = std::find_if(inv.groups.begin(), inv.groups.end(),
                               [&](const IommuGroup& g) { return g.id == *d.iommu_group; });
        if (it == inv.groups.end())
          inv.groups.push_back({*d.iommu_group, {d.address}});
        else
          it->devices.push_back(d.address);
      }
      std::sort(inv.groups.begin(), inv.groups.end(),
                [](const IommuGroup& x, const IommuGroup& y) { return x.id < y.id; });
      inv.system.iommu.group_count = static_cast<int>(inv.groups.size());
    }
    inv.gpus = find_gpus(inv.devices, inv.groups, inv.system.iommu.active);
    return inv;
  }
};

inline const gpu::GpuDb& shipped_db() {
  static const gpu::GpuDb db = *gpu::load_embedded_gpu_db();
  return db;
}

inline gpu::GpuInfo classify_one(FakeInventory& f, const char* a) {
  auto all = gpu::classify(f.done(), shipped_db());
  for (auto& g : all)
    if (g.gpu.address == addr(a)) return g;
  return {};
}

}  // namespace exliar::testing
