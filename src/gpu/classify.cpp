#include "gpu/classify.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"

namespace exliar::gpu {

namespace {

constexpr std::uint16_t kAmd = 0x1002, kNvidia = 0x10de, kIntel = 0x8086;

GpuVendor vendor_of(std::uint16_t v) {
  switch (v) {
    case kNvidia:
      return GpuVendor::nvidia;
    case kAmd:
      return GpuVendor::amd;
    case kIntel:
      return GpuVendor::intel;
    default:
      return GpuVendor::other;
  }
}

CompanionKind kind_of(const PciDevice& d) {
  // 0403 HD audio, 0c03 USB (xHCI on Turing/Navi), 0c80 serial bus (UCSI), per
  // gpu-knowledge.md 0/1.6/2.7 and amdgpu_get_secondary_funcs().
  switch (d.class_sub()) {
    case 0x0403:
      return CompanionKind::audio;
    case 0x0c03:
      return CompanionKind::usb;
    case 0x0c80:
      return CompanionKind::ucsi;
    default:
      return CompanionKind::other;
  }
}

/// The probe's Gpu, built for a function probe does not treat as a GPU (AMD 0x1200):
/// same rules as find_gpus (DESIGN.md §4).
Gpu synthesize(const Inventory& inv, const PciDevice& d) {
  Gpu g;
  g.address = d.address;
  g.vendor = vendor_of(d.vendor_id);
  for (const auto& x : inv.devices)
    if (x.address.same_slot(d.address)) g.functions.push_back(x.address);
  g.boot_vga = d.boot_vga;
  g.iommu_group = d.iommu_group;
  const IommuGroup* grp = d.iommu_group ? inv.find_group(*d.iommu_group) : nullptr;
  if (!inv.system.iommu.active || !grp) return g;
  for (const auto& m : grp->devices) {
    if (std::find(g.functions.begin(), g.functions.end(), m) != g.functions.end()) continue;
    const PciDevice* md = inv.find(m);
    if (md && md->is_bridge()) continue;
    g.shared_with.push_back(m);
  }
  g.isolation = g.shared_with.empty() ? Isolation::isolated : Isolation::shared;
  return g;
}

/// Discrete Navi and Arc cards put a PCIe switch on the board: root port -> upstream
/// port (same vendor as the GPU) -> downstream port -> GPU (realdata/lspci/asus-z690...).
std::optional<PciAddress> own_switch(const Inventory& inv, const PciDevice& d) {
  if (!d.parent) return std::nullopt;
  const PciDevice* down = inv.find(*d.parent);
  if (!down || !down->is_bridge() || down->vendor_id != d.vendor_id || !down->parent)
    return std::nullopt;
  const PciDevice* up = inv.find(*down->parent);
  if (!up || !up->is_bridge() || up->vendor_id != d.vendor_id) return std::nullopt;
  return up->address;
}

}  // namespace

const char* to_string(CompanionKind k) {
  switch (k) {
    case CompanionKind::audio:
      return "audio";
    case CompanionKind::usb:
      return "usb";
    case CompanionKind::ucsi:
      return "ucsi";
    default:
      return "other";
  }
}

std::vector<PciAddress> GpuInfo::vm_functions() const {
  std::vector<PciAddress> out{gpu.address};
  for (const auto& c : companions) out.push_back(c.address);
  return out;
}

bool is_gpu_function(const PciDevice& d) {
  // amdgpu also binds AMD processing accelerators (class 0x1200, Instinct parts).
  return d.is_display() || (d.vendor_id == kAmd && d.base_class() == 0x12);
}

std::vector<GpuInfo> classify(const Inventory& inv, const GpuDb& db) {
  std::vector<Gpu> gpus = inv.gpus;
  for (const auto& d : inv.devices) {
    if (d.is_display() || !is_gpu_function(d)) continue;
    bool slot_has_gpu = std::any_of(gpus.begin(), gpus.end(),
                                    [&](const Gpu& g) { return g.address.same_slot(d.address); });
    if (!slot_has_gpu) gpus.push_back(synthesize(inv, d));
  }
  std::sort(gpus.begin(), gpus.end(),
            [](const Gpu& a, const Gpu& b) { return a.address < b.address; });

  std::vector<GpuInfo> out;
  for (const auto& g : gpus) {
    const PciDevice* d = inv.find(g.address);
    if (!d) continue;
    GpuInfo info;
    info.gpu = g;
    info.vendor_id = d->vendor_id;
    info.device_id = d->device_id;
    info.revision = d->revision;
    info.class_code = d->class_code;
    info.driver = d->driver;
    DbMatch m = db.lookup(d->vendor_id, d->device_id, d->revision);
    info.match = m.kind;
    info.caps = m.caps();
    // The Code 43 check was in the GeForce driver only: Quadro/Tesla/RTX-enterprise IDs
    // inside a consumer chip's range never had it (NVIDIA GeForce passthrough FAQ, 2021).
    if (db.is_pro(d->vendor_id, d->device_id) && info.caps.code43 != Code43::none) {
      info.caps.code43 = Code43::none;
      info.caps.source += "; pro/datacenter product per " + db.pro_ids_source;
    }
    info.vendor_name = m.vendor ? m.vendor->name : fmt::format("vendor {}", hex4(d->vendor_id));
    if (m.entry) {
      info.known = true;
      info.codename = m.entry->codename;
      info.architecture = m.entry->architecture;
      info.generation = m.entry->generation;
      info.role = m.entry->role;
      info.gpu.integrated = m.entry->integrated;
      info.name = fmt::format("{} {}, {}", info.vendor_name, info.codename, info.architecture);
      info.db_source = fmt::format("{} entry {}", m.entry->file, m.entry->index);
    } else {
      // Honest about what we do not know: vendor-level defaults, no invented model.
      info.name = fmt::format("unknown {} GPU [{}:{}]", info.vendor_name, hex4(d->vendor_id),
                              hex4(d->device_id));
      info.db_source = m.vendor ? info.vendor_name + " vendor defaults" : "no database entry";
    }
    for (const auto& f : g.functions) {
      if (f == g.address) continue;
      const PciDevice* fd = inv.find(f);
      if (!fd) continue;
      // An APU's slot also holds CPU functions (PSP, USB controllers, the board's audio:
      // vendor 0x1022 on AMD); only the GPU vendor's own functions travel with the iGPU.
      if (info.gpu.integrated && fd->vendor_id != d->vendor_id) continue;
      info.companions.push_back({f, kind_of(*fd), true});
    }
    info.switch_upstream = own_switch(inv, *d);
    if (info.switch_upstream) {
      // Arc puts its HD audio behind another downstream port of the same switch.
      for (const auto& x : inv.devices) {
        if (x.address.same_slot(g.address) || x.vendor_id != d->vendor_id || !x.parent) continue;
        const PciDevice* port = inv.find(*x.parent);
        if (port && port->parent && *port->parent == *info.switch_upstream &&
            kind_of(x) == CompanionKind::audio)
          info.companions.push_back({x.address, CompanionKind::audio, false});
      }
    }
    // A companion outside the slot (Arc audio) is part of the GPU, not an outsider.
    auto& sw = info.gpu.shared_with;
    for (const auto& c : info.companions)
      sw.erase(std::remove(sw.begin(), sw.end(), c.address), sw.end());
    if (info.gpu.isolation == Isolation::shared && sw.empty())
      info.gpu.isolation = Isolation::isolated;
    info.muxless = d->class_sub() == 0x0302 && gpus.size() > 1;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace exliar::gpu
