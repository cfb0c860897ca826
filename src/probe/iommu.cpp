#include "probe/iommu.h"

#include <algorithm>
#include <map>

#include "host/paths.h"
#include "host/text.h"

namespace exliar {

std::vector<IommuGroup> scan_iommu_groups(const Fs& fs, const std::vector<PciDevice>& devices,
                                          bool scan_complete, std::vector<ProbeNote>& notes) {
  std::vector<IommuGroup> out;
  auto ids = fs.list_dir(paths::kIommuGroups);
  if (!ids) return out;  // no IOMMU: the directory is absent or empty
  // The kernel makes a device's `iommu_group` link and its entry in the group's devices/
  // directory together (drivers/iommu/iommu.c, iommu_group_add_device()/__iommu_group_
  // add_device(): sysfs_create_link(&dev->kobj, &group->kobj, "iommu_group") and
  // sysfs_create_link_nowarn(group->devices_kobj, &dev->kobj, device_name)), so the links
  // the PCI scan read already give every group's PCI members, and listing each group costs
  // five system calls per group for nothing (issue 23). A group no scanned function names
  // (non-PCI members only, or a tree not laid out by the kernel) is listed, and so is
  // every group when some function could not be read: it may be the one that shares it.
  std::map<int, std::vector<PciAddress>> linked;
  if (scan_complete)
    for (const auto& d : devices)
      if (d.iommu_group) linked[*d.iommu_group].push_back(d.address);
  for (const auto& name : *ids) {
    auto id = parse_long(name);
    if (!id || *id < 0) continue;
    IommuGroup g;
    g.id = static_cast<int>(*id);
    if (auto it = linked.find(g.id); it != linked.end()) {
      g.devices = std::move(it->second);
    } else {
      std::string dir = path_join(path_join(paths::kIommuGroups, name), "devices");
      auto members = fs.list_dir(dir);
      if (!members) {
        notes.push_back({fs.display(dir), members.error().describe()});
      } else {
        for (const auto& m : *members)
          if (auto a = parse_pci_address(m)) g.devices.push_back(*a);
        if (g.devices.empty()) notes.push_back({fs.display(dir), "IOMMU group has no devices"});
      }
    }
    std::sort(g.devices.begin(), g.devices.end());
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

namespace {

GpuVendor vendor_of(std::uint16_t id) {
  switch (id) {
    case 0x10de:
      return GpuVendor::nvidia;
    case 0x1002:
      return GpuVendor::amd;
    case 0x8086:
      return GpuVendor::intel;
    default:
      return GpuVendor::other;
  }
}

}  // namespace

std::vector<Gpu> find_gpus(const std::vector<PciDevice>& devices,
                           const std::vector<IommuGroup>& groups, bool iommu_active) {
  std::map<std::string, std::vector<const PciDevice*>> slots;  // slot -> functions in order
  for (const auto& d : devices) slots[d.address.slot()].push_back(&d);

  std::map<PciAddress, const PciDevice*> by_addr;
  for (const auto& d : devices) by_addr[d.address] = &d;

  std::vector<Gpu> out;
  for (const auto& [slot, fns] : slots) {
    auto first_display =
        std::find_if(fns.begin(), fns.end(), [](const PciDevice* d) { return d->is_display(); });
    if (first_display == fns.end()) continue;
    const PciDevice& d = **first_display;
    Gpu g;
    g.address = d.address;
    g.vendor = vendor_of(d.vendor_id);
    for (const auto* f : fns) g.functions.push_back(f->address);
    // Without the GPU database an integrated GPU is recognised only where the platform
    // fixes it: Intel iGPUs sit on the root bus (00:02.0). The gpu module refines this.
    g.integrated = g.vendor == GpuVendor::intel && d.address.bus == 0;
    g.boot_vga = d.boot_vga;
    g.iommu_group = d.iommu_group;
    const IommuGroup* group = nullptr;
    if (d.iommu_group)
      for (const auto& grp : groups)
        if (grp.id == *d.iommu_group) group = &grp;
    if (!iommu_active || !group) {
      g.isolation = Isolation::no_iommu;
    } else {
      for (const auto& member : group->devices) {
        if (std::find(g.functions.begin(), g.functions.end(), member) != g.functions.end())
          continue;
        auto it = by_addr.find(member);
        if (it != by_addr.end() && it->second->is_bridge()) continue;
        g.shared_with.push_back(member);
      }
      g.isolation = g.shared_with.empty() ? Isolation::isolated : Isolation::shared;
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace exliar
