#include "modules/bind_safety.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"

namespace exliar {

std::vector<std::string> parse_default_route_ifaces(std::string_view route) {
  // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT, hex.
  std::vector<std::string> out;
  bool header = true;
  for (auto line : split_lines(route)) {
    if (header) {
      header = false;
      continue;
    }
    auto f = split_ws(line);
    if (f.size() < 8) continue;
    if (f[1] == "00000000" && f[7] == "00000000") {
      std::string iface(f[0]);
      if (std::find(out.begin(), out.end(), iface) == out.end()) out.push_back(iface);
    }
  }
  return out;
}

std::set<std::string> parse_mount_sources(std::string_view mounts) {
  std::set<std::string> out;
  for (auto line : split_lines(mounts)) {
    auto f = split_ws(line);
    if (f.empty()) continue;
    std::string src;
    std::string_view s = f[0];
    for (size_t i = 0; i < s.size(); ++i) {
      // getmntent escapes space, tab, newline and backslash as \ooo.
      if (s[i] == '\\' && i + 3 < s.size()) {
        auto oct = s.substr(i + 1, 3);
        if (oct.size() == 3 &&
            std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
          src += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
          i += 3;
          continue;
        }
      }
      src += s[i];
    }
    out.insert(src);
  }
  return out;
}

namespace {

bool under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

/// fbcon is bound to a virtual console: /sys/class/vtconsole/vtconN/{name,bind}, where
/// name reads "frame buffer device" for fbcon (drivers/video/fbdev/core/fbcon.c).
bool fbcon_active(const Fs& fs) {
  auto names = fs.list_dir(paths::kSysClassVtconsole);
  if (!names) return false;
  for (const auto& n : *names) {
    std::string dir = path_join(paths::kSysClassVtconsole, n);
    auto name = fs.read_file(path_join(dir, "name"));
    auto bind = fs.read_file(path_join(dir, "bind"));
    if (name && bind && name->find("frame buffer") != std::string::npos && trim(*bind) == "1")
      return true;
  }
  return false;
}

/// Block devices (disks and their partitions) below a PCI device's sysfs directory, with
/// whether something (device-mapper, md) is stacked on them.
struct Disk {
  std::string name;
  bool held = false;
};
std::vector<Disk> disks_below(const Fs& fs, const PciDevice& d) {
  std::vector<Disk> out;
  auto names = fs.list_dir(paths::kSysBlock);
  if (!names) return out;
  for (const auto& n : *names) {
    auto real = resolve_link(fs, path_join(paths::kSysBlock, n));
    if (!real || !under(*real, d.sysfs_path)) continue;
    auto held = [&](const std::string& dir) {
      auto h = fs.list_dir(path_join(dir, "holders"));
      return h && !h->empty();
    };
    out.push_back({n, held(*real)});
    if (auto parts = fs.list_dir(*real))
      for (const auto& p : *parts)
        if (p.rfind(n, 0) == 0 && p != n) out.push_back({p, held(path_join(*real, p))});
  }
  return out;
}

}  // namespace

std::vector<std::string> bind_refusals(const Fs& fs, const std::vector<const PciDevice*>& devices) {
  std::vector<std::string> why;
  std::vector<std::string> route_ifaces;
  if (auto r = fs.read_file(paths::kProcNetRoute)) route_ifaces = parse_default_route_ifaces(*r);
  std::set<std::string> mounted;
  if (auto m = fs.read_file(paths::kProcMounts)) mounted = parse_mount_sources(*m);
  bool fbcon = fbcon_active(fs);
  for (const PciDevice* d : devices) {
    std::string a = d->address.str();
    if (d->boot_vga && d->is_display() && fbcon)
      why.push_back(a +
                    " is the boot GPU and the text console (fbcon) is drawn on it; taking it "
                    "away leaves the host without a console");
    if (d->base_class() == 0x01) {
      for (const auto& disk : disks_below(fs, *d)) {
        std::string dev = "/dev/" + disk.name;
        if (mounted.count(dev))
          why.push_back(fmt::format("{} is a storage controller and {} is mounted", a, dev));
        else if (disk.held)
          why.push_back(
              fmt::format("{} is a storage controller and {} is in use by another block "
                          "device (device-mapper, RAID)",
                          a, dev));
      }
    }
    for (const auto& iface : route_ifaces) {
      // /sys/class/net/<iface> is itself a link: resolve it before its `device` link.
      auto dir = resolve_link(fs, path_join(paths::kSysClassNet, iface));
      if (!dir) continue;
      auto real = resolve_link(fs, path_join(*dir, "device"));
      if (real && path_basename(*real) == a)
        why.push_back(fmt::format("{} is the network device {} of the default route", a, iface));
    }
  }
  return why;
}

}  // namespace exliar
