// PCI enumeration from sysfs (never from lspci output). Attribute files are the
// kernel's view (after quirks), which is what vfio-pci and the drivers see.
#include "probe/pci.h"

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "probe/pci_ids.h"

namespace exliar {

namespace {

// What is read per function, in three stages, so that a kernel's sysfs costs one directory
// open, two attribute reads and one link per function (issue 23):
//  1. `uevent` (the kernel's pci_uevent(): PCI_CLASS, PCI_ID, PCI_SUBSYS_ID and dev_uevent's
//     DRIVER, all from struct pci_dev after quirks: quirks do rewrite class codes, e.g.
//     quirk_amd_nl_class and quirk_tw686x_class in drivers/pci/quirks.c, and an SR-IOV VF's
//     config space reads 0xffff for its IDs, so `config` is not the view to trust), the
//     `revision` attribute (not in uevent) and the `iommu_group` link;
//  2. only where uevent is missing or malformed (a fixture or a snapshot made without it):
//     the separate attribute files and the `driver` link, as before;
//  3. `boot_vga` only for VGA-class functions: drivers/pci/pci-sysfs.c makes it visible
//     only for those (pci_dev_attrs_are_visible / pci_is_vga), so reading it elsewhere is
//     a failed open per function.
const std::vector<Fs::Entry> kFirst = {{"uevent"}, {"revision"}, {"iommu_group", true}};
enum First { kUevent, kRevisionFirst, kGroupFirst };
const std::vector<Fs::Entry> kAttrs = {
    {"vendor"},           {"device"},           {"class"},
    {"subsystem_vendor"}, {"subsystem_device"}, {"driver", true}};
enum Attr { kVendor, kDevice, kClass, kSubVendor, kSubDevice, kDriver };
const std::vector<Fs::Entry> kBootVga = {{"boot_vga"}};

// Directories read per read_entries_many call: bounds what is held at once at 8192
// functions while keeping the descriptors of many reads in one close_range.
constexpr size_t kChunk = 256;

struct Notes {
  const Fs& fs;
  std::vector<ProbeNote>& notes;
  void add(const std::string& dir, std::string_view name, std::string msg) {
    notes.push_back({fs.display(path_join(dir, name)), std::move(msg)});
  }
};

// A required hex attribute: absent or malformed is reported and fails the device.
std::optional<std::uint32_t> required_hex(Notes& n, const std::string& dir, std::string_view name,
                                          const std::optional<std::string>& v, std::uint32_t max) {
  if (!v) {
    n.add(dir, name, "missing or unreadable; device skipped");
    return std::nullopt;
  }
  auto x = parse_hex(*v);
  if (!x || *x > max) {
    n.add(dir, name, "not a hex value (\"" + std::string(trim(*v)) + "\"); device skipped");
    return std::nullopt;
  }
  return x;
}

// An optional hex attribute: absent is fine, malformed is noted.
std::optional<std::uint32_t> optional_hex(Notes& n, const std::string& dir, std::string_view name,
                                          const std::optional<std::string>& v, std::uint32_t max) {
  if (!v) return std::nullopt;
  auto x = parse_hex(*v);
  if (!x || *x > max) {
    n.add(dir, name, "not a hex value; ignored");
    return std::nullopt;
  }
  return x;
}

std::optional<std::string> link_name(Notes& n, const std::string& dir, std::string_view name,
                                     const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  // The kernel makes these links relative; an absolute target names something outside
  // the tree being scanned (under --root: the host's own /sys), so it is not trusted.
  if (v->starts_with('/')) {
    n.add(dir, name, "symlink has an absolute target (" + *v + "); ignored");
    return std::nullopt;
  }
  auto base = path_basename(*v);
  if (base.empty() || base == "." || base == "..") return std::nullopt;
  return std::string(base);
}

// Stage 2: the identity from the separate attribute files. False: the device is skipped.
bool read_attrs(const Fs& fs, Notes& n, PciDevice& d) {
  auto r = fs.read_entries(d.sysfs_path, kAttrs);
  if (!r) return false;
  const auto& v = *r;
  const std::string& dir = d.sysfs_path;
  auto vendor = required_hex(n, dir, "vendor", v[kVendor], 0xffff);
  auto device = required_hex(n, dir, "device", v[kDevice], 0xffff);
  auto cls = required_hex(n, dir, "class", v[kClass], 0xffffff);
  if (!vendor || !device || !cls) return false;
  d.vendor_id = static_cast<std::uint16_t>(*vendor);
  d.device_id = static_cast<std::uint16_t>(*device);
  d.class_code = *cls;
  if (auto x = optional_hex(n, dir, "subsystem_vendor", v[kSubVendor], 0xffff))
    d.subsystem_vendor_id = static_cast<std::uint16_t>(*x);
  if (auto x = optional_hex(n, dir, "subsystem_device", v[kSubDevice], 0xffff))
    d.subsystem_device_id = static_cast<std::uint16_t>(*x);
  d.driver = link_name(n, dir, "driver", v[kDriver]);
  return true;
}

// Stage 1 for one function whose directory was read; false when stage 2 is needed.
bool from_uevent(Notes& n, PciDevice& d, const std::optional<std::string>& uevent) {
  if (!uevent) return false;
  auto u = parse_pci_uevent(*uevent);
  if (!u) {
    n.add(d.sysfs_path, "uevent", "no valid PCI_ID and PCI_CLASS; read the attribute files");
    return false;
  }
  d.vendor_id = u->vendor_id;
  d.device_id = u->device_id;
  d.class_code = u->class_code;
  d.subsystem_vendor_id = u->subsystem_vendor_id;
  d.subsystem_device_id = u->subsystem_device_id;
  d.driver = u->driver;
  return true;
}

}  // namespace

std::optional<PciUevent> parse_pci_uevent(std::string_view text) {
  PciUevent u;
  bool have_id = false, have_class = false;
  auto id_pair = [](std::string_view v, std::uint16_t& a, std::uint16_t& b) {
    if (!is_pci_id(v)) return false;  // "10DE:1D01", as in vfio-pci.ids=
    a = static_cast<std::uint16_t>(*parse_hex(v.substr(0, 4)));
    b = static_cast<std::uint16_t>(*parse_hex(v.substr(5)));
    return true;
  };
  for (auto line : split_lines(text)) {
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = line.substr(0, eq);
    auto val = line.substr(eq + 1);
    if (key == "PCI_ID") {
      have_id = id_pair(val, u.vendor_id, u.device_id);
      if (!have_id) return std::nullopt;
    } else if (key == "PCI_CLASS") {
      auto c = parse_hex(val);
      if (!c || *c > 0xffffff || val.starts_with("0x") || val.starts_with("0X"))
        return std::nullopt;
      u.class_code = *c;
      have_class = true;
    } else if (key == "PCI_SUBSYS_ID") {
      std::uint16_t a = 0, b = 0;
      if (!id_pair(val, a, b)) return std::nullopt;
      u.subsystem_vendor_id = a;
      u.subsystem_device_id = b;
    } else if (key == "DRIVER") {
      // A driver's name is one path component (its directory under /sys/bus/pci/drivers).
      if (val.empty() || val.find('/') != std::string_view::npos || val == "." || val == "..")
        return std::nullopt;
      u.driver = std::string(val);
    }
  }
  if (!have_id || !have_class) return std::nullopt;
  return u;
}

std::vector<PciDevice> scan_pci(const Fs& fs, std::vector<ProbeNote>& notes, bool* complete) {
  std::vector<PciDevice> out;
  if (complete) *complete = false;
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
  bool all = true;
  // Every function that links to a device directory, before its attributes are read.
  std::vector<PciDevice> found;
  std::vector<std::string> found_link;  // the bus link of each, as the notes name it
  found.reserve(names->size());
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
      all = false;
      continue;
    }
    auto real = resolve_link_target(fs, link, *(*targets)[i]);
    if (!real) {
      notes.push_back({fs.display(link), real.error().message + "; device skipped"});
      all = false;
      continue;
    }
    PciDevice d;
    d.address = *addr;
    d.sysfs_path = std::move(*real);
    // The upstream bridge is the parent directory when that is itself a PCI function.
    d.parent = parse_pci_address(path_basename(path_dirname(d.sysfs_path)));
    found.push_back(std::move(d));
    found_link.push_back(std::move(link));
  }
  Notes n{fs, notes};
  out.reserve(found.size());
  std::vector<std::string> dirs;
  for (size_t base = 0; base < found.size(); base += kChunk) {
    size_t end = std::min(found.size(), base + kChunk);
    dirs.clear();
    for (size_t i = base; i < end; ++i) dirs.push_back(found[i].sysfs_path);
    auto first = fs.read_entries_many(dirs, kFirst);
    size_t vga_from = out.size();
    for (size_t i = base; i < end; ++i) {
      PciDevice& d = found[i];
      auto& r = first[i - base];
      if (!r) {
        notes.push_back({fs.display(found_link[i]),
                         "dangling link (target " + d.sysfs_path + " missing); device skipped"});
        all = false;
        continue;
      }
      if (!from_uevent(n, d, (*r)[kUevent]) && !read_attrs(fs, n, d)) {
        all = false;
        continue;
      }
      if (auto v = optional_hex(n, d.sysfs_path, "revision", (*r)[kRevisionFirst], 0xff))
        d.revision = static_cast<std::uint8_t>(*v);
      if (auto g = link_name(n, d.sysfs_path, "iommu_group", (*r)[kGroupFirst])) {
        if (auto id = parse_long(*g); id && *id >= 0)
          d.iommu_group = static_cast<int>(*id);
        else
          n.add(d.sysfs_path, "iommu_group", "link does not name a group number; ignored");
      }
      out.push_back(std::move(d));
    }
    // Stage 3, batched too: boot_vga of this chunk's VGA functions.
    std::vector<PciDevice*> vga;
    dirs.clear();
    for (size_t i = vga_from; i < out.size(); ++i)
      if (out[i].is_vga_class()) {
        vga.push_back(&out[i]);
        dirs.push_back(out[i].sysfs_path);
      }
    auto boot = fs.read_entries_many(dirs, kBootVga);
    for (size_t i = 0; i < vga.size(); ++i)
      if (boot[i] && (*boot[i])[0]) vga[i]->boot_vga = trim(*(*boot[i])[0]) == "1";
  }
  std::sort(out.begin(), out.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });
  if (complete) *complete = all;
  return out;
}

std::optional<std::string> name_devices(const Fs& fs, std::vector<PciDevice>& devices,
                                        std::vector<ProbeNote>& notes) {
  bool root_has_one = false;
  for (auto p : paths::kPciIdsCandidates) {
    auto st = fs.stat(p);
    if (!st) continue;
    root_has_one = true;
    PciIdsStream ids;
    for (const auto& d : devices) ids.want(d.vendor_id, d.device_id);
    if (auto r = fs.read_chunks(p, [&](std::string_view chunk) { ids.feed(chunk); }); !r) {
      notes.push_back({fs.display(p), r.error().describe() + "; trying the next pci.ids"});
      continue;
    }
    ids.finish();
    for (auto& d : devices) {
      d.vendor_name = ids.vendor(d.vendor_id);
      d.device_name = ids.device(d.vendor_id, d.device_id);
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
