// PCI enumeration from sysfs (never from lspci output). Attribute files are the
// kernel's view (after quirks), which is what vfio-pci and the drivers see.
#include "probe/pci.h"

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "probe/pci_ids.h"

namespace exliar {

namespace {

struct Reader {
  const Fs& fs;
  std::vector<ProbeNote>& notes;
  std::string dir;

  std::string path(std::string_view attr) const { return path_join(dir, attr); }

  // A required hex attribute: absent or malformed is reported and fails the device.
  std::optional<std::uint32_t> hex(std::string_view attr, std::uint32_t max) {
    auto p = path(attr);
    auto text = fs.read_file(p);
    if (!text) {
      notes.push_back({fs.display(p), text.error().describe() + "; device skipped"});
      return std::nullopt;
    }
    auto v = parse_hex(*text);
    if (!v || *v > max) {
      notes.push_back({fs.display(p),
                       "not a hex value (\"" + std::string(trim(*text)) + "\"); device skipped"});
      return std::nullopt;
    }
    return v;
  }

  // An optional hex attribute: absent is fine, malformed is noted.
  std::optional<std::uint32_t> opt_hex(std::string_view attr, std::uint32_t max) {
    auto p = path(attr);
    auto text = fs.read_file(p);
    if (!text) return std::nullopt;
    auto v = parse_hex(*text);
    if (!v || *v > max) {
      notes.push_back({fs.display(p), "not a hex value; ignored"});
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> link_name(std::string_view attr) {
    auto target = fs.read_link(path(attr));
    if (!target) return std::nullopt;
    auto base = path_basename(*target);
    if (base.empty()) return std::nullopt;
    return std::string(base);
  }
};

}  // namespace

std::vector<PciDevice> scan_pci(const Fs& fs, std::vector<ProbeNote>& notes) {
  std::vector<PciDevice> out;
  auto names = fs.list_dir(paths::kPciDevices);
  if (!names) {
    notes.push_back({fs.display(paths::kPciDevices), names.error().describe()});
    return out;
  }
  out.reserve(names->size());
  for (const auto& name : *names) {
    auto addr = parse_pci_address(name);
    if (!addr) {
      notes.push_back(
          {fs.display(path_join(paths::kPciDevices, name)), "not a PCI address; ignored"});
      continue;
    }
    std::string link = path_join(paths::kPciDevices, name);
    auto real = resolve_link(fs, link);
    if (!real) {
      notes.push_back({fs.display(link), real.error().message + "; device skipped"});
      continue;
    }
    if (!fs.is_dir(*real)) {
      notes.push_back(
          {fs.display(link), "dangling link (target " + *real + " missing); device skipped"});
      continue;
    }
    Reader r{fs, notes, *real};
    PciDevice d;
    d.address = *addr;
    d.sysfs_path = *real;
    auto vendor = r.hex("vendor", 0xffff);
    auto device = r.hex("device", 0xffff);
    auto cls = r.hex("class", 0xffffff);
    if (!vendor || !device || !cls) continue;
    d.vendor_id = static_cast<std::uint16_t>(*vendor);
    d.device_id = static_cast<std::uint16_t>(*device);
    d.class_code = *cls;
    if (auto v = r.opt_hex("subsystem_vendor", 0xffff))
      d.subsystem_vendor_id = static_cast<std::uint16_t>(*v);
    if (auto v = r.opt_hex("subsystem_device", 0xffff))
      d.subsystem_device_id = static_cast<std::uint16_t>(*v);
    if (auto v = r.opt_hex("revision", 0xff)) d.revision = static_cast<std::uint8_t>(*v);
    d.driver = r.link_name("driver");
    if (auto g = r.link_name("iommu_group")) {
      if (auto id = parse_long(*g); id && *id >= 0)
        d.iommu_group = static_cast<int>(*id);
      else
        notes.push_back(
            {fs.display(r.path("iommu_group")), "link does not name a group number; ignored"});
    }
    if (auto bv = fs.read_file(r.path("boot_vga"))) d.boot_vga = trim(*bv) == "1";
    // The upstream bridge is the parent directory when that is itself a PCI function.
    d.parent = parse_pci_address(path_basename(path_dirname(*real)));
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });
  return out;
}

std::optional<std::string> name_devices(const Fs& fs, std::vector<PciDevice>& devices,
                                        std::vector<ProbeNote>& notes) {
  for (auto p : paths::kPciIdsCandidates) {
    auto st = fs.stat(p);
    if (!st) continue;
    auto text = fs.read_file(p);
    if (!text) {
      notes.push_back({fs.display(p), text.error().describe() + "; trying the next pci.ids"});
      continue;
    }
    PciIds ids(*text);
    for (auto& d : devices) {
      if (auto v = ids.vendor(d.vendor_id)) d.vendor_name = std::string(*v);
      if (auto n = ids.device(d.vendor_id, d.device_id)) d.device_name = std::string(*n);
    }
    return std::string(p);
  }
  return std::nullopt;
}

}  // namespace exliar
