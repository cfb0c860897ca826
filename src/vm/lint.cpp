// Lint mode: passthrough mistakes in an existing domain, judged against the host inventory.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <pugixml.hpp>
#include <set>

#include "host/text.h"
#include "vm/vm_xml.h"
#include "vm/xml_edit.h"

namespace exliar::vm {

const char* to_string(LintSeverity s) { return s == LintSeverity::error ? "error" : "warning"; }

namespace {

struct PassedFn {
  PciAddress host;
  std::optional<XmlPciAddress> guest;
  std::string rom_file;  ///< "" when none
};

void check_rom(const Fs& fs, const PassedFn& f, std::vector<LintFinding>& out) {
  auto bad = [&](std::string why) {
    out.push_back({"rom-unreadable", LintSeverity::error, f.host.str(),
                   fmt::format("ROM file {} for {}: {}", f.rom_file, f.host.str(), why)});
  };
  if (f.rom_file.front() != '/') return bad("libvirt needs an absolute path");
  auto st = fs.stat(f.rom_file);
  if (!st) return bad(st.error().describe());
  if (st->type != FileStat::Type::regular) return bad("not a regular file");
  if (st->size == 0) return bad("the file is empty; dump the VBIOS again (`exliar vbios dump`)");
  // QEMU runs as an unprivileged user (libvirt-qemu / qemu) and libvirt does not relabel
  // ROM files for it, so the file must be world-readable and every directory searchable.
  if (!(st->mode & 0004))
    return bad(
        fmt::format("mode {:04o} is not readable by the QEMU user; chmod 0644 it", st->mode));
  std::string dir(path_dirname(f.rom_file));
  while (dir.size() > 1) {
    auto ds = fs.stat(dir);
    if (ds && !(ds->mode & 0001))
      return bad(
          fmt::format("directory {} (mode {:04o}) cannot be entered by the QEMU user; "
                      "keep ROMs under a system directory such as /usr/share/vgabios",
                      dir, ds->mode));
    dir = std::string(path_dirname(dir));
  }
}

void check_gpu(const Inventory& inv, const Gpu& gpu, const std::map<PciAddress, PassedFn>& passed,
               std::vector<LintFinding>& out) {
  std::vector<const PassedFn*> mine;
  for (const auto& a : gpu.functions) {
    auto it = passed.find(a);
    if (it != passed.end()) {
      mine.push_back(&it->second);
      continue;
    }
    const PciDevice* d = inv.find(a);
    bool audio = d && (d->class_code >> 8) == 0x0403;
    out.push_back(
        {audio ? "missing-audio" : "missing-function", LintSeverity::error, a.str(),
         fmt::format("GPU {} is passed without its {} function {}: pass every function of the "
                     "slot (they share an IOMMU group and the guest driver expects them)",
                     gpu.address.str(), audio ? "audio" : "companion", a.str())});
  }
  std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> slots;
  for (const auto* f : mine) {
    if (!f->guest) {
      out.push_back({"no-guest-address", LintSeverity::error, f->host.str(),
                     fmt::format("{} has no guest <address type='pci'>: libvirt will put each "
                                 "function in its own slot; run `exliar vm-xml --gpu {} --domain "
                                 "FILE` to keep them together",
                                 f->host.str(), gpu.address.str())});
      continue;
    }
    slots.insert({f->guest->domain, f->guest->bus, f->guest->slot});
  }
  if (slots.size() > 1) {
    std::vector<std::string> where;
    for (const auto* f : mine)
      if (f->guest)
        where.push_back(fmt::format("{} -> {}:{}.{}", f->host.str(), hex_attr(f->guest->bus, 2),
                                    hex_attr(f->guest->slot, 2), f->guest->function));
    out.push_back({"split-slot", LintSeverity::error, gpu.address.str(),
                   "the functions of GPU " + gpu.address.str() + " are split across guest slots (" +
                       join(where, ", ") + "); guest drivers expect one multifunction device"});
  } else if (slots.size() == 1 && mine.size() > 1) {
    auto fn0 = std::find_if(mine.begin(), mine.end(),
                            [](const PassedFn* f) { return f->guest && f->guest->function == 0; });
    if (fn0 == mine.end() || !(*fn0)->guest->multifunction)
      out.push_back({"no-multifunction", LintSeverity::error, gpu.address.str(),
                     "the guest slot of GPU " + gpu.address.str() +
                         " has no function 0 with multifunction='on': the guest only scans "
                         "functions 1-7 of a multifunction device"});
  }
  if (gpu.isolation == Isolation::shared) {
    std::vector<std::string> others;
    for (const auto& a : gpu.shared_with) others.push_back(a.str());
    out.push_back(
        {"not-isolated", LintSeverity::error, gpu.address.str(),
         fmt::format("GPU {} shares IOMMU group {} with {}: VFIO needs the whole group; "
                     "move the card to another slot or see `exliar check`",
                     gpu.address.str(), gpu.iommu_group.value_or(-1), join(others, ", "))});
  } else if (gpu.isolation == Isolation::no_iommu) {
    out.push_back({"no-iommu", LintSeverity::error, gpu.address.str(),
                   "the IOMMU is not active on this host, so no device can be passed; see "
                   "`exliar check`"});
  }
}

}  // namespace

Result<std::vector<LintFinding>> lint_domain(std::string_view text, const Inventory& inv,
                                             const Fs& host_fs, std::string_view source_name) {
  pugi::xml_document doc;
  auto parsed = parse_domain(doc, text, source_name);
  if (!parsed) return tl::unexpected(parsed.error());
  auto root = *parsed;
  std::map<PciAddress, PassedFn> passed;
  for (auto h : root.child("devices").children("hostdev")) {
    auto src = hostdev_source(h);
    if (!src) continue;
    PassedFn f{*src, read_pci_address(guest_address_node(h)),
               h.child("rom").attribute("file").value()};
    passed.emplace(*src, f);
  }
  std::vector<LintFinding> out;
  std::set<PciAddress> covered;
  for (const auto& gpu : inv.gpus) {
    bool touched = std::any_of(gpu.functions.begin(), gpu.functions.end(),
                               [&](const PciAddress& a) { return passed.count(a) > 0; }) ||
                   passed.count(gpu.address);
    if (!touched) continue;
    check_gpu(inv, gpu, passed, out);
    covered.insert(gpu.functions.begin(), gpu.functions.end());
  }
  for (const auto& [a, f] : passed) {
    if (!f.rom_file.empty()) check_rom(host_fs, f, out);
    if (!covered.count(a) && !inv.find(a))
      out.push_back({"not-on-host", LintSeverity::warning, a.str(),
                     "hostdev " + a.str() + " does not exist on this host"});
  }
  return out;
}

}  // namespace exliar::vm
