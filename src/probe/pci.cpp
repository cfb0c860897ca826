// PCI enumeration from sysfs (never from lspci output). Attribute files are the
// kernel's view (after quirks), which is what vfio-pci and the drivers see.
#include "probe/pci.h"

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "probe/pci_ids.h"

namespace exliar {

namespace {

// The attributes read per function, in one batched directory read.
enum Attr {
  kVendor,
  kDevice,
  kClass,
  kSubVendor,
  kSubDevice,
  kRevision,
  kBootVga,
  kDriver,
  kGroup
};
const std::vector<Fs::Entry> kAttrs = {
    {"vendor"},   {"device"},   {"class"},        {"subsystem_vendor"}, {"subsystem_device"},
    {"revision"}, {"boot_vga"}, {"driver", true}, {"iommu_group", true}};

struct Reader {
  const Fs& fs;
  std::vector<ProbeNote>& notes;
  const std::string& dir;
  std::vector<std::optional<std::string>>& values;

  std::string path(Attr a) const { return path_join(dir, kAttrs[a].name); }

  // A required hex attribute: absent or malformed is reported and fails the device.
  std::optional<std::uint32_t> hex(Attr a, std::uint32_t max) {
    if (!values[a]) {
      notes.push_back({fs.display(path(a)), "missing or unreadable; device skipped"});
      return std::nullopt;
    }
    auto v = parse_hex(*values[a]);
    if (!v || *v > max) {
      notes.push_back({fs.display(path(a)), "not a hex value (\"" + std::string(trim(*values[a])) +
                                                "\"); device skipped"});
      return std::nullopt;
    }
    return v;
  }

  // An optional hex attribute: absent is fine, malformed is noted.
  std::optional<std::uint32_t> opt_hex(Attr a, std::uint32_t max) {
    if (!values[a]) return std::nullopt;
    auto v = parse_hex(*values[a]);
    if (!v || *v > max) {
      notes.push_back({fs.display(path(a)), "not a hex value; ignored"});
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> link_name(Attr a) {
    if (!values[a]) return std::nullopt;
    // The kernel makes these links relative; an absolute target names something outside
    // the tree being scanned (under --root: the host's own /sys), so it is not trusted.
    if (values[a]->starts_with('/')) {
      notes.push_back(
          {fs.display(path(a)), "symlink has an absolute target (" + *values[a] + "); ignored"});
      return std::nullopt;
    }
    auto base = path_basename(*values[a]);
    if (base.empty() || base == "." || base == "..") return std::nullopt;
    return std::string(base);
  }
};

std::optional<PciDevice> read_device(const Fs& fs, const PciAddress& addr, const std::string& link,
                                     const std::string& real, std::vector<ProbeNote>& notes) {
  auto values = fs.read_entries(real, kAttrs);
  if (!values) {
    notes.push_back(
        {fs.display(link), "dangling link (target " + real + " missing); device skipped"});
    return std::nullopt;
  }
  Reader r{fs, notes, real, *values};
  PciDevice d;
  d.address = addr;
  d.sysfs_path = real;
  auto vendor = r.hex(kVendor, 0xffff);
  auto device = r.hex(kDevice, 0xffff);
  auto cls = r.hex(kClass, 0xffffff);
  if (!vendor || !device || !cls) return std::nullopt;
  d.vendor_id = static_cast<std::uint16_t>(*vendor);
  d.device_id = static_cast<std::uint16_t>(*device);
  d.class_code = *cls;
  if (auto v = r.opt_hex(kSubVendor, 0xffff))
    d.subsystem_vendor_id = static_cast<std::uint16_t>(*v);
  if (auto v = r.opt_hex(kSubDevice, 0xffff))
    d.subsystem_device_id = static_cast<std::uint16_t>(*v);
  if (auto v = r.opt_hex(kRevision, 0xff)) d.revision = static_cast<std::uint8_t>(*v);
  d.driver = r.link_name(kDriver);
  if (auto g = r.link_name(kGroup)) {
    if (auto id = parse_long(*g); id && *id >= 0)
      d.iommu_group = static_cast<int>(*id);
    else
      notes.push_back({fs.display(r.path(kGroup)), "link does not name a group number; ignored"});
  }
  d.boot_vga = (*values)[kBootVga] && trim(*(*values)[kBootVga]) == "1";
  // The upstream bridge is the parent directory when that is itself a PCI function.
  d.parent = parse_pci_address(path_basename(path_dirname(real)));
  return d;
}

}  // namespace

std::vector<PciDevice> scan_pci(const Fs& fs, std::vector<ProbeNote>& notes) {
  std::vector<PciDevice> out;
  auto names = fs.list_dir(paths::kPciDevices);
  if (!names) {
    notes.push_back({fs.display(paths::kPciDevices), names.error().describe()});
    return out;
  }
  std::vector<Fs::Entry> links;
  links.reserve(names->size());
  for (const auto& n : *names) links.push_back({n, true});
  auto targets = fs.read_entries(paths::kPciDevices, links);
  if (!targets) {
    notes.push_back({fs.display(paths::kPciDevices), targets.error().describe()});
    return out;
  }
  out.reserve(names->size());
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    std::string link = path_join(paths::kPciDevices, name);
    auto addr = parse_pci_address(name);
    if (!addr) {
      notes.push_back({fs.display(link), "not a PCI address; ignored"});
      continue;
    }
    if (!(*targets)[i]) {
      notes.push_back({fs.display(link), "not a symlink to a device directory; device skipped"});
      continue;
    }
    auto real = resolve_link_target(fs, link, *(*targets)[i]);
    if (!real) {
      notes.push_back({fs.display(link), real.error().message + "; device skipped"});
      continue;
    }
    if (auto d = read_device(fs, *addr, link, *real, notes)) out.push_back(std::move(*d));
  }
  std::sort(out.begin(), out.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });
  return out;
}

std::optional<std::string> name_devices(const Fs& fs, std::vector<PciDevice>& devices,
                                        std::vector<ProbeNote>& notes) {
  bool root_has_one = false;
  for (auto p : paths::kPciIdsCandidates) {
    auto st = fs.stat(p);
    if (!st) continue;
    root_has_one = true;
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
    return fs.display(p);
  }
  // A root without pci.ids (a snapshot, a minimal chroot): the host's names are better than
  // none. Only the names come from the host; every fact still comes from the root. A root
  // whose pci.ids is broken keeps bracketed IDs (its note says why).
  if (!fs.is_live() && !root_has_one)
    if (auto host = RealFs::open("/")) {
      std::vector<ProbeNote> ignored;
      if (auto p = name_devices(*host, devices, ignored)) return "the host's " + *p;
    }
  return std::nullopt;
}

}  // namespace exliar
