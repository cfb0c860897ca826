// See selftest.h. The checklist is a table of item builders, each reading the measurement
// and appending one item; the verdict is the worst state among them.
#include "analyze/selftest.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "gpu/vbios.h"
#include "host/paths.h"

namespace exliar {

using json = nlohmann::ordered_json;

const char* to_string(TestState s) {
  switch (s) {
    case TestState::ok:
      return "ok";
    case TestState::warn:
      return "warn";
    case TestState::fail:
      return "fail";
    case TestState::info:
      return "info";
  }
  return "info";
}

namespace {

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t o) {
  return std::uint16_t(b[o] | (b[o + 1] << 8));
}
std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t o) {
  return std::uint32_t(b[o]) | std::uint32_t(b[o + 1]) << 8 | std::uint32_t(b[o + 2]) << 16 |
         std::uint32_t(b[o + 3]) << 24;
}

constexpr std::size_t kHeader = 64;             // the type 0 header
constexpr std::uint16_t kStatusCapList = 0x10;  // PCI_STATUS_CAP_LIST
constexpr std::uint16_t kExtCapRebar = 0x0015;  // PCI_EXT_CAP_ID_REBAR

}  // namespace

std::optional<std::vector<std::uint8_t>> capability_ids(std::span<const std::uint8_t> c) {
  std::vector<std::uint8_t> ids;
  if (c.size() < kHeader || !(le16(c, 0x06) & kStatusCapList)) return ids;
  std::size_t pos = c[0x34] & 0xFC;
  // 48 = (256 - 64) / 4: more hops than fit in config space is a loop (the kernel's
  // PCI_FIND_CAP_TTL in drivers/pci/pci.c uses the same bound).
  for (int ttl = 48; pos != 0; --ttl) {
    if (ttl == 0 || pos < kHeader || pos + 1 >= c.size() || pos > 0xFC) return std::nullopt;
    ids.push_back(c[pos]);
    pos = c[pos + 1] & 0xFC;
  }
  return ids;
}

std::vector<std::string> config_problems(std::span<const std::uint8_t> before,
                                         std::span<const std::uint8_t> after, std::uint16_t vendor,
                                         std::uint16_t device) {
  std::vector<std::string> p;
  if (after.size() < kHeader) {
    p.push_back(fmt::format("config space read back {} bytes, not the {}-byte header", after.size(),
                            kHeader));
    return p;
  }
  if (std::all_of(after.begin(), after.begin() + kHeader, [](auto b) { return b == 0xFF; })) {
    p.push_back("config space reads all ones: the device did not come back from the reset");
    return p;
  }
  if (le16(after, 0) != vendor || le16(after, 2) != device)
    p.push_back(fmt::format("config space shows {:04x}:{:04x}, not {:04x}:{:04x}", le16(after, 0),
                            le16(after, 2), vendor, device));
  if (le16(after, 0x04) == 0xFFFF) p.push_back("the command register reads 0xffff");
  if (before.size() >= kHeader && le32(after, 0x08) >> 8 != le32(before, 0x08) >> 8)
    p.push_back(fmt::format("the class code changed from {:06x} to {:06x}", le32(before, 8) >> 8,
                            le32(after, 8) >> 8));
  auto caps_after = capability_ids(after);
  auto caps_before = capability_ids(before);
  if (!caps_after)
    p.push_back("the capability list is broken (pointer out of range or a loop)");
  else if (caps_before && *caps_before != *caps_after)
    p.push_back(fmt::format("the capability list changed: {} capabilities before, {} after",
                            caps_before->size(), caps_after->size()));
  return p;
}

std::vector<BarInfo> bar_infos(std::span<const std::uint8_t> c,
                               const std::vector<VfioRegion>& regions) {
  std::vector<BarInfo> bars;
  for (const auto& r : regions) {
    if (r.index > 5 || r.size == 0) continue;
    BarInfo b{r.index, r.size};
    if (c.size() >= kHeader) {
      std::uint32_t v = le32(c, 0x10 + 4 * r.index);
      b.io = v & 1;
      b.mem64 = !b.io && ((v >> 1) & 3) == 2;  // PCI_BASE_ADDRESS_MEM_TYPE_64
      b.prefetchable = !b.io && (v & 8);
    }
    bars.push_back(b);
  }
  return bars;
}

std::vector<RebarEntry> parse_rebar(std::span<const std::uint8_t> c) {
  std::vector<RebarEntry> out;
  if (c.size() < 0x104) return out;
  std::size_t pos = 0x100;
  // Extended capabilities: 32-bit headers, ID in bits 15:0, next pointer in 31:20; at
  // most (4096 - 256) / 8 of them (PCI_CFG_SPACE_EXP_SIZE in the kernel's
  // pci_find_next_ext_capability).
  for (int ttl = 480; pos >= 0x100 && pos + 4 <= c.size() && ttl > 0; --ttl) {
    std::uint32_t h = le32(c, pos);
    if (h == 0 || h == 0xFFFFFFFF) break;
    if ((h & 0xFFFF) == kExtCapRebar) {
      // Entry i: capability register at pos+4+8i (bits 31:4: size 2^(n-4) MiB supported
      // for bit n), control at pos+8+8i (bits 2:0 BAR index, 7:5 number of entries in
      // the first one, 13:8 current size as log2(MiB)).
      if (pos + 12 > c.size()) break;
      unsigned n = (le32(c, pos + 8) >> 5) & 7;
      for (unsigned i = 0; i < std::max(1u, n) && pos + 12 + 8 * i <= c.size(); ++i) {
        std::uint32_t cap = le32(c, pos + 4 + 8 * i), ctl = le32(c, pos + 8 + 8 * i);
        RebarEntry e;
        e.bar = ctl & 7;
        e.current = (std::uint64_t(1) << 20) << ((ctl >> 8) & 0x3F);
        for (unsigned bit = 4; bit < 32; ++bit)
          if (cap & (1u << bit)) e.supported.push_back((std::uint64_t(1) << 20) << (bit - 4));
        out.push_back(e);
      }
      break;
    }
    pos = h >> 20;
    if (pos == 0) break;
  }
  return out;
}

std::string format_size(std::uint64_t b) {
  static constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && b >= 1024 && b % 1024 == 0) b /= 1024, ++u;
  return fmt::format("{} {}", b, units[u]);
}

namespace {

std::string addr(const TestReport& r) { return r.m.address.str(); }

void reset_support(TestReport& r) {
  const auto& m = r.m;
  std::string sysfs = m.reset_methods ? (m.reset_methods->empty() ? "(none)" : *m.reset_methods)
                                      : "(no reset_method attribute)";
  TestItem it{"reset-support", TestState::ok, "", {fmt::format("sysfs reset_method: {}", sysfs)}};
  if (m.reset_kind == ResetKind::function) {
    it.title = "The device offers a reset of its own (VFIO_DEVICE_RESET)";
  } else if (m.reset_kind == ResetKind::hot) {
    it.title = "No reset of its own; a bus hot reset covers only this group (QEMU uses it)";
  } else {
    it.state = TestState::warn;
    it.title = "No reset is available through VFIO";
    if (!m.hot_reset_groups.empty())
      it.details.push_back(
          fmt::format("a bus hot reset would also reset IOMMU group(s) {} outside this test",
                      fmt::join(m.hot_reset_groups, ", ")));
    it.next =
        "The GPU keeps its state between VM runs: the guest driver may not start a second "
        "time. Give the VM every function of the slot, use vendor-reset where it supports "
        "the GPU, or reboot the host between VM runs.";
  }
  r.items.push_back(std::move(it));
}

void resets(TestReport& r) {
  const auto& m = r.m;
  if (m.reset_kind == ResetKind::none) return;
  TestItem it{"resets", TestState::ok, "", {}};
  std::vector<std::string> times;
  for (std::size_t i = 0; i < m.resets.size(); ++i) {
    const auto& a = m.resets[i];
    times.push_back(fmt::format("{:.1f} ms", a.ms));
    if (!a.ok) {
      it.details.push_back(fmt::format("reset {} failed: {}", i + 1, a.error));
      continue;
    }
    auto p = config_problems(m.config_before, a.config, m.vendor_id, m.device_id);
    for (auto& s : p) it.details.push_back(fmt::format("after reset {}: {}", i + 1, s));
    if (p.empty()) ++r.resets_ok;
  }
  r.reset_survives =
      r.resets_ok == r.resets_requested && int(m.resets.size()) == r.resets_requested;
  if (*r.reset_survives) {
    it.title = fmt::format("{} of {} resets ({}), config space sane after each", r.resets_ok,
                           r.resets_requested, to_string(m.reset_kind));
    it.details.insert(it.details.begin(),
                      "reset times: " + fmt::format("{}", fmt::join(times, ", ")));
  } else {
    it.state = TestState::fail;
    it.title = "This GPU does not survive a reset here";
    it.details.insert(it.details.begin(), fmt::format("{} of {} resets came back sane", r.resets_ok,
                                                      r.resets_requested));
    it.next =
        "Do not restart VMs with this GPU without a host reboot (or a suspend/resume cycle of "
        "the host); for AMD GPUs vendor-reset may help (exliar check says whether it covers "
        "this one).";
  }
  r.items.push_back(std::move(it));
}

void rom(TestReport& r) {
  const auto& m = r.m;
  std::uint64_t bar = 0;
  for (const auto& g : m.regions)
    if (g.index == 6) bar = g.size;
  TestItem it{"rom", TestState::ok, "", {}};
  if (bar) it.details.push_back("ROM BAR: " + format_size(bar));
  if (m.rom.empty()) {
    it.state = TestState::warn;
    it.title = "No ROM could be read";
    it.details.push_back(m.rom_note);
    it.next =
        "The guest firmware cannot show a picture before the guest driver loads; give "
        "the VM a ROM file (exliar vbios check FILE --gpu " +
        addr(r) + ").";
    r.items.push_back(std::move(it));
    return;
  }
  it.details.push_back(fmt::format("{} bytes read through {}", m.rom.size(), m.rom_source));
  auto info = parse_rom(m.rom);
  if (!info) {
    it.state = TestState::warn;
    it.title = "The ROM does not parse as a PCI expansion ROM";
    it.details.push_back(info.error().message);
    it.next = "Give the VM a known-good ROM file (exliar vbios check FILE --gpu " + addr(r) + ").";
    r.items.push_back(std::move(it));
    return;
  }
  auto problems = info->problems;
  for (auto& p : rom_id_problems(*info, m.vendor_id, m.device_id)) problems.push_back(p);
  std::vector<std::string> kinds;
  for (const auto& img : info->images)
    kinds.push_back(fmt::format(
        "{}{}", to_string(img.code_type),
        img.checksum_ok ? (*img.checksum_ok ? " (checksum ok)" : " (bad checksum)") : ""));
  it.details.push_back(fmt::format("images: {}", fmt::join(kinds, ", ")));
  for (auto& p : problems) it.details.push_back(p);
  if (!problems.empty()) {
    it.state = TestState::warn;
    it.title = "The ROM has problems";
    it.next = "Give the VM a clean ROM file (exliar vbios dump/patch, then vbios check).";
  } else if (!info->has_efi()) {
    it.state = TestState::warn;
    it.title = "The ROM has no EFI (GOP) image";
    it.next =
        "OVMF (UEFI) guests show no picture until the guest driver loads; use SeaBIOS "
        "or a ROM file with a GOP image.";
  } else {
    it.title = "The ROM is valid and carries an EFI (GOP) image for OVMF guests";
  }
  r.items.push_back(std::move(it));
}

void bars(TestReport& r) {
  r.bars = bar_infos(r.m.config_before, r.m.regions);
  TestItem it{"bars", TestState::info, "", {}};
  std::uint64_t mem64 = 0;
  for (const auto& b : r.bars) {
    it.details.push_back(fmt::format("BAR{}: {} {}{}", b.index, format_size(b.size),
                                     b.io ? "I/O" : (b.mem64 ? "64-bit memory" : "32-bit memory"),
                                     b.prefetchable ? ", prefetchable" : ""));
    if (b.mem64) mem64 += b.size;
  }
  it.title = fmt::format("{} BAR(s)", r.bars.size());
  // OVMF's 64-bit PCI MMIO aperture was a fixed 32 GiB (PcdPciMmio64Size in
  // OvmfPkg/OvmfPkgX64.dsc) until edk2 sized it from the guest's physical address width;
  // larger BARs then stay unassigned and the guest sees no GPU. X-PciMmio64Mb raises it
  // (OvmfPkg/Library/PlatformInitLib, fw_cfg "opt/ovmf/X-PciMmio64Mb").
  if (mem64 > (std::uint64_t(32) << 30)) {
    it.state = TestState::warn;
    it.next = fmt::format(
        "The 64-bit BARs need {}: older OVMF maps 32 GiB. Start QEMU with -fw_cfg "
        "name=opt/ovmf/X-PciMmio64Mb,string={} or shrink the BAR (Resizable BAR below).",
        format_size(mem64), (mem64 >> 20) * 2);
  }
  r.items.push_back(std::move(it));
}

void rebar(TestReport& r) {
  r.rebar = parse_rebar(r.m.config_before);
  if (r.rebar.empty()) return;
  TestItem it{"rebar", TestState::info, "Resizable BAR capability present", {}};
  for (const auto& e : r.rebar) {
    std::vector<std::string> s;
    for (auto v : e.supported) s.push_back(format_size(v));
    it.details.push_back(fmt::format("BAR{}: current {}, supported {}", e.bar,
                                     format_size(e.current), fmt::join(s, ", ")));
  }
  // resourceN_resize: Documentation/ABI/testing/sysfs-bus-pci (Linux 6.1+); the value is
  // the capability's size encoding (log2 of MiB), written while no driver holds the device.
  it.next = fmt::format(
      "To change a BAR's size before the VM starts: unbind the device, write the size as "
      "log2(MiB) to /sys/bus/pci/devices/{}/resourceN_resize (e.g. 8 = 256 MiB), then bind "
      "it to vfio-pci again.",
      addr(r));
  r.items.push_back(std::move(it));
}

void link(TestReport& r) {
  const auto& m = r.m;
  if (!m.link_speed && !m.max_link_speed) return;
  auto v = [](const std::optional<std::string>& s) { return s ? *s : std::string("unknown"); };
  TestItem it{"link",
              TestState::info,
              fmt::format("PCIe link x{} at {}", v(m.link_width), v(m.link_speed)),
              {fmt::format("maximum x{} at {}", v(m.max_link_width), v(m.max_link_speed))}};
  r.items.push_back(std::move(it));
}

int rank(TestState s) { return s == TestState::fail ? 2 : s == TestState::warn ? 1 : 0; }

}  // namespace

TestReport interpret(const VfioMeasurement& m, int resets_requested) {
  TestReport r;
  r.m = m;
  r.resets_requested = resets_requested;
  static const std::vector<std::function<void(TestReport&)>> builders = {
      reset_support, resets, rom, bars, rebar, link};
  for (const auto& b : builders) b(r);
  for (const auto& it : r.items)
    if (rank(it.state) > rank(r.verdict)) r.verdict = it.state;
  return r;
}

json test_report_json(const TestReport& r) {
  const auto& m = r.m;
  json j;
  j["schema_version"] = 1;
  j["address"] = m.address.str();
  j["vendor_id"] = fmt::format("{:04x}", m.vendor_id);
  j["device_id"] = fmt::format("{:04x}", m.device_id);
  j["iommu_group"] = m.group;
  j["measured_at"] = m.measured_at;
  j["verdict"] = to_string(r.verdict == TestState::info ? TestState::ok : r.verdict);
  json reset;
  reset["kind"] = to_string(m.reset_kind);
  reset["sysfs_reset_methods"] = m.reset_methods ? json(*m.reset_methods) : json(nullptr);
  reset["requested"] = r.resets_requested;
  reset["ok"] = r.resets_ok;
  reset["survives"] = r.reset_survives ? json(*r.reset_survives) : json(nullptr);
  json times = json::array();
  for (const auto& a : m.resets) times.push_back(a.ms);
  reset["times_ms"] = times;
  j["reset"] = reset;
  json rom;
  std::uint64_t rombar = 0;
  for (const auto& g : m.regions)
    if (g.index == 6) rombar = g.size;
  rom["bar_size"] = rombar;
  rom["source"] = m.rom_source.empty() ? json(nullptr) : json(m.rom_source);
  rom["bytes"] = m.rom.size();
  j["rom"] = rom;
  json bars = json::array();
  for (const auto& b : r.bars)
    bars.push_back({{"index", b.index},
                    {"size", b.size},
                    {"type", b.io ? "io" : (b.mem64 ? "mem64" : "mem32")},
                    {"prefetchable", b.prefetchable}});
  j["bars"] = bars;
  json rebar = json::array();
  for (const auto& e : r.rebar)
    rebar.push_back({{"bar", e.bar}, {"current", e.current}, {"supported", e.supported}});
  j["resizable_bar"] = rebar;
  json link;
  auto put = [&](const char* k, const std::optional<std::string>& v) {
    link[k] = v ? json(*v) : json(nullptr);
  };
  put("speed", m.link_speed);
  put("width", m.link_width);
  put("max_speed", m.max_link_speed);
  put("max_width", m.max_link_width);
  j["link"] = link;
  json items = json::array();
  for (const auto& it : r.items) {
    json i{{"id", it.id},
           {"state", to_string(it.state)},
           {"title", it.title},
           {"details", it.details}};
    i["next"] = it.next ? json(*it.next) : json(nullptr);
    items.push_back(i);
  }
  j["checks"] = items;
  return j;
}

Result<MeasuredReset> parse_test_record(std::string_view text, std::string_view path) {
  auto bad = [&](std::string why) {
    return fail("not a test record of exliar: " + why, std::string(path));
  };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto v = j.find("schema_version");
  if (v == j.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != 1)
    return bad("schema_version is not 1");
  MeasuredReset m;
  auto str = [&](const json& o, const char* k, std::string& out) {
    auto f = o.find(k);
    if (f == o.end() || !f->is_string()) return false;
    out = f->get<std::string>();
    return true;
  };
  if (!str(j, "address", m.address) || !parse_pci_address(m.address))
    return bad("no valid \"address\"");
  if (!str(j, "measured_at", m.measured_at) || m.measured_at.size() > 40)
    return bad("no valid \"measured_at\"");
  auto r = j.find("reset");
  if (r == j.end() || !r->is_object()) return bad("no \"reset\" object");
  if (!str(*r, "kind", m.reset_kind) || m.reset_kind.size() > 20) return bad("no reset.kind");
  auto s = r->find("survives");
  if (s != r->end() && s->is_boolean())
    m.survives = s->get<bool>();
  else if (s == r->end() || !s->is_null())
    return bad("reset.survives is not true, false or null");
  auto ok = r->find("ok");
  if (ok == r->end() || !ok->is_number_unsigned() || ok->get<std::uint64_t>() > 1000)
    return bad("reset.ok is not a count");
  m.resets = int(ok->get<std::uint64_t>());
  return m;
}

std::string test_record_path(const PciAddress& a) {
  return path_join(paths::kTestResultsDir, a.str() + ".json");
}

}  // namespace exliar
