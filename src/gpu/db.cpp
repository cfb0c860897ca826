#include "gpu/db.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "host/text.h"

namespace exliar::gpudb {
extern const std::pair<std::string_view, std::string_view> kEmbedded[];
extern const int kEmbeddedCount;
}  // namespace exliar::gpudb

namespace exliar::gpu {

using json = nlohmann::json;

const char* to_string(VbiosNeed v) {
  switch (v) {
    case VbiosNeed::boot_gpu:
      return "boot-gpu";
    case VbiosNeed::always:
      return "always";
    case VbiosNeed::legacy_igd:
      return "legacy-igd";
    default:
      return "never";
  }
}

const char* to_string(Code43 c) {
  switch (c) {
    case Code43::legacy_drivers:
      return "geforce-before-r465";
    case Code43::all_drivers:
      return "all-drivers";
    case Code43::unknown:
      return "unknown";
    default:
      return "none";
  }
}

const char* to_string(MatchKind k) {
  switch (k) {
    case MatchKind::exact_revision:
      return "exact-revision";
    case MatchKind::exact:
      return "exact";
    case MatchKind::range:
      return "range";
    case MatchKind::vendor_default:
      return "vendor-default";
    default:
      return "unknown-vendor";
  }
}

namespace {

// Capability keys shared by entries and vendor defaults.
const std::set<std::string> kCapKeys = {"drivers",
                                        "supports_reset",
                                        "has_reset_bug",
                                        "vendor_reset_supported",
                                        "reset_method",
                                        "requires_acs_override",
                                        "supports_fbc",
                                        "supports_gvt",
                                        "supports_sriov",
                                        "code43",
                                        "qemu_reset_quirk",
                                        "supports_vbios_loading",
                                        "vbios_needed",
                                        "notes",
                                        "source"};
const std::set<std::string> kEntryKeys = {"vendor_id",  "codename",      "architecture",
                                          "generation", "integrated",    "role",
                                          "device_ids", "device_ranges", "revisions"};
// The reset methods the kernel knows (drivers/pci/pci.c pci_reset_fn_methods[]).
const std::set<std::string> kResetMethods = {
    "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus"};

/// Where a problem was found: "amd.json: entry 12 (Polaris 11)".
struct Where {
  std::string file;
  std::string what;
  std::string str() const { return what.empty() ? file : file + ": " + what; }
};

tl::unexpected<Error> bad(const Where& w, const std::string& msg) {
  return fail(w.str() + ": " + msg, w.file);
}

std::optional<std::uint16_t> parse_id4(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() != 4 || to_lower(s) != s) return std::nullopt;
  auto x = parse_hex(s);
  if (!x || s.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  return static_cast<std::uint16_t>(*x);
}

Result<std::optional<bool>> opt_bool(const json& o, const char* key, const Where& w,
                                     bool required) {
  if (!o.contains(key)) {
    if (required) return bad(w, fmt::format("missing field '{}'", key));
    return std::optional<bool>{};
  }
  const json& v = o.at(key);
  if (v.is_null()) return std::optional<bool>{};
  if (!v.is_boolean()) return bad(w, fmt::format("field '{}' must be true, false or null", key));
  return std::optional<bool>{v.get<bool>()};
}

Result<bool> req_bool(const json& o, const char* key, const Where& w) {
  if (!o.contains(key)) return bad(w, fmt::format("missing field '{}'", key));
  if (!o.at(key).is_boolean()) return bad(w, fmt::format("field '{}' must be true or false", key));
  return o.at(key).get<bool>();
}

Result<std::string> req_string(const json& o, const char* key, const Where& w) {
  if (!o.contains(key)) return bad(w, fmt::format("missing field '{}'", key));
  const json& v = o.at(key);
  if (!v.is_string() || v.get_ref<const std::string&>().empty())
    return bad(w, fmt::format("field '{}' must be a non-empty string", key));
  return v.get<std::string>();
}

Result<GpuCaps> parse_caps(const json& o, const Where& w) {
  GpuCaps c;
  if (!o.contains("drivers") || !o.at("drivers").is_array())
    return bad(w, "field 'drivers' must be a list of kernel module names");
  for (const auto& d : o.at("drivers")) {
    if (!d.is_string() || d.get_ref<const std::string&>().empty())
      return bad(w, "field 'drivers' must hold non-empty strings");
    c.drivers.push_back(d.get<std::string>());
  }
  auto r = opt_bool(o, "supports_reset", w, true);
  if (!r) return tl::unexpected(r.error());
  c.supports_reset = *r;
  if (r = opt_bool(o, "has_reset_bug", w, true); !r) return tl::unexpected(r.error());
  c.has_reset_bug = *r;
  auto b = req_bool(o, "vendor_reset_supported", w);
  if (!b) return tl::unexpected(b.error());
  c.vendor_reset_supported = *b;
  if (!o.contains("reset_method")) return bad(w, "missing field 'reset_method'");
  if (const json& m = o.at("reset_method"); !m.is_null()) {
    if (!m.is_string() || !kResetMethods.count(m.get<std::string>()))
      return bad(w,
                 "field 'reset_method' must be null or one of device_specific, acpi, flr, "
                 "af_flr, pm, bus, cxl_bus");
    c.reset_method = m.get<std::string>();
  }
  if (!o.contains("requires_acs_override")) return bad(w, "missing field 'requires_acs_override'");
  if (!o.at("requires_acs_override").is_null())
    return bad(w,
               "field 'requires_acs_override' must be null: whether ACS override is needed is "
               "a fact of the board's PCIe topology, not of the GPU");
  if (r = opt_bool(o, "supports_fbc", w, true); !r) return tl::unexpected(r.error());
  c.supports_fbc = *r;
  if (b = req_bool(o, "supports_gvt", w); !b) return tl::unexpected(b.error());
  c.supports_gvt = *b;
  if (r = opt_bool(o, "supports_sriov", w, true); !r) return tl::unexpected(r.error());
  c.supports_sriov = *r;
  auto c43 = req_string(o, "code43", w);
  if (!c43) return tl::unexpected(c43.error());
  if (*c43 == "none")
    c.code43 = Code43::none;
  else if (*c43 == "geforce-before-r465")
    c.code43 = Code43::legacy_drivers;
  else if (*c43 == "all-drivers")
    c.code43 = Code43::all_drivers;
  else if (*c43 == "unknown")
    c.code43 = Code43::unknown;
  else
    return bad(w,
               "field 'code43' must be \"none\", \"geforce-before-r465\", \"all-drivers\" or "
               "\"unknown\"");
  if (o.contains("qemu_reset_quirk")) {
    if (b = req_bool(o, "qemu_reset_quirk", w); !b) return tl::unexpected(b.error());
    c.qemu_reset_quirk = *b;
  }
  if (b = req_bool(o, "supports_vbios_loading", w); !b) return tl::unexpected(b.error());
  c.supports_vbios_loading = *b;
  auto vb = req_string(o, "vbios_needed", w);
  if (!vb) return tl::unexpected(vb.error());
  if (*vb == "never")
    c.vbios_needed = VbiosNeed::never;
  else if (*vb == "boot-gpu")
    c.vbios_needed = VbiosNeed::boot_gpu;
  else if (*vb == "always")
    c.vbios_needed = VbiosNeed::always;
  else if (*vb == "legacy-igd")
    c.vbios_needed = VbiosNeed::legacy_igd;
  else
    return bad(w,
               "field 'vbios_needed' must be \"never\", \"boot-gpu\", \"always\" or "
               "\"legacy-igd\"");
  if (o.contains("notes")) {
    auto n = req_string(o, "notes", w);
    if (!n) return tl::unexpected(n.error());
    c.notes = *n;
  }
  auto src = req_string(o, "source", w);
  if (!src) return tl::unexpected(src.error());
  c.source = *src;
  return c;
}

Status check_keys(const json& o, const Where& w, bool entry) {
  for (const auto& [k, v] : o.items()) {
    (void)v;
    if (kCapKeys.count(k) || (entry && kEntryKeys.count(k))) continue;
    if (k == "needs_code_43_workaround")
      return bad(w,
                 "field 'needs_code_43_workaround' was replaced by 'code43': \"none\", "
                 "\"geforce-before-r465\", \"all-drivers\" or \"unknown\" "
                 "(docs/gpu-database.md)");
    return bad(w, fmt::format("unknown field '{}'", k));
  }
  return {};
}

Result<DbEntry> parse_entry(const json& e, const Where& w) {
  if (!e.is_object()) return bad(w, "an entry must be a JSON object");
  if (auto k = check_keys(e, w, true); !k) return tl::unexpected(k.error());
  DbEntry out;
  if (!e.contains("vendor_id")) return bad(w, "missing field 'vendor_id'");
  auto vid = parse_id4(e.at("vendor_id"));
  if (!vid) return bad(w, "field 'vendor_id' must be 4 lowercase hex digits");
  out.vendor_id = *vid;
  for (auto [key, dst] :
       {std::pair{"codename", &out.codename}, std::pair{"architecture", &out.architecture},
        std::pair{"generation", &out.generation}}) {
    auto s = req_string(e, key, w);
    if (!s) return tl::unexpected(s.error());
    *dst = *s;
  }
  auto integ = req_bool(e, "integrated", w);
  if (!integ) return tl::unexpected(integ.error());
  out.integrated = *integ;
  if (e.contains("role")) {
    auto role = req_string(e, "role", w);
    if (!role) return tl::unexpected(role.error());
    if (*role != "gpu" && *role != "bmc" && *role != "virtual")
      return bad(w, "field 'role' must be \"gpu\", \"bmc\" or \"virtual\"");
    out.role = *role;
  }
  if (e.contains("device_ids")) {
    if (!e.at("device_ids").is_array()) return bad(w, "field 'device_ids' must be a list");
    for (const auto& d : e.at("device_ids")) {
      auto id = parse_id4(d);
      if (!id) return bad(w, fmt::format("device ID {} is not 4 lowercase hex digits", d.dump()));
      if (std::find(out.device_ids.begin(), out.device_ids.end(), *id) != out.device_ids.end())
        return bad(w, fmt::format("device ID {} is listed twice", d.dump()));
      out.device_ids.push_back(*id);
    }
  }
  if (e.contains("device_ranges")) {
    if (!e.at("device_ranges").is_array()) return bad(w, "field 'device_ranges' must be a list");
    for (const auto& r : e.at("device_ranges")) {
      if (!r.is_object() || r.size() != 2 || !r.contains("first") || !r.contains("last"))
        return bad(w, "a device range must be {\"first\": \"xxxx\", \"last\": \"xxxx\"}");
      auto a = parse_id4(r.at("first")), z = parse_id4(r.at("last"));
      if (!a || !z)
        return bad(w, fmt::format("device range {} needs 4 lowercase hex digits", r.dump()));
      if (*a > *z) return bad(w, fmt::format("device range {} has first > last", r.dump()));
      out.device_ranges.push_back({*a, *z});
    }
  }
  if (out.device_ids.empty() && out.device_ranges.empty())
    return bad(w, "an entry needs 'device_ids' or 'device_ranges'");
  if (e.contains("revisions")) {
    if (out.device_ids.empty() || !out.device_ranges.empty())
      return bad(w, "'revisions' applies to exact 'device_ids' only");
    if (!e.at("revisions").is_array() || e.at("revisions").empty())
      return bad(w, "field 'revisions' must be a non-empty list");
    for (const auto& r : e.at("revisions")) {
      auto s = r.is_string() ? r.get<std::string>() : std::string();
      auto x = parse_hex(s);
      if (s.size() != 2 || to_lower(s) != s || !x)
        return bad(w, fmt::format("revision {} is not 2 lowercase hex digits", r.dump()));
      out.revisions.push_back(static_cast<std::uint8_t>(*x));
    }
  }
  auto caps = parse_caps(e, w);
  if (!caps) return tl::unexpected(caps.error());
  out.caps = std::move(*caps);
  return out;
}

/// Line of a byte offset, for JSON syntax errors.
int line_of(std::string_view text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 +
         static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(byte), '\n'));
}

}  // namespace

const GpuCaps& DbMatch::caps() const {
  static const GpuCaps kNone = [] {
    GpuCaps c;
    c.notes = "Vendor unknown to exliar's GPU database";
    c.source = "exliar built-in default";
    return c;
  }();
  if (entry) return entry->caps;
  if (vendor) return vendor->defaults;
  return kNone;
}

Status parse_gpu_db_file(std::string_view name, std::string_view text, GpuDb& into) {
  const std::string file(name);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(fmt::format("{}: not valid JSON: {}", file, e.what()), file, 0,
                line_of(text, e.byte > 0 ? e.byte - 1 : 0));
  } catch (const json::exception& e) {  // e.g. out_of_range 406: number overflow
    return fail(fmt::format("{}: not valid JSON: {}", file, e.what()), file);
  }
  Where top{file, ""};
  if (!doc.is_object()) return bad(top, "the top level must be a JSON object");
  for (const auto& [k, v] : doc.items()) {
    (void)v;
    if (k != "schema_version" && k != "description" && k != "requires_acs_override_note" &&
        k != "vendors" && k != "entries" && k != "generated_by" && k != "inputs" &&
        k != "pro_device_ids")
      return bad(top, fmt::format("unknown top-level field '{}'", k));
  }
  if (!doc.contains("schema_version") || doc.at("schema_version") != 1)
    return bad(top, "\"schema_version\": 1 is required");
  if (!doc.contains("vendors") || !doc.at("vendors").is_array())
    return bad(top, "field 'vendors' must be a list");
  if (!doc.contains("entries") || !doc.at("entries").is_array())
    return bad(top, "field 'entries' must be a list");
  if (doc.contains("pro_device_ids")) {
    // {"source": "...", "10de": ["1eb8", ...]}: products of pro/datacenter lines.
    const json& p = doc.at("pro_device_ids");
    Where w{file, "pro_device_ids"};
    if (!p.is_object()) return bad(w, "must be an object of vendor ID -> device ID list");
    if (!p.contains("source") || !p.at("source").is_string() ||
        p.at("source").get_ref<const std::string&>().empty())
      return bad(w, "missing field 'source'");
    into.pro_ids_source = p.at("source").get<std::string>();
    for (const auto& [k, ids] : p.items()) {
      if (k == "source") continue;
      auto vid = parse_id4(json(k));
      if (!vid || !ids.is_array())
        return bad(w, fmt::format("'{}': expected a vendor ID with a list of device IDs", k));
      for (const auto& d : ids) {
        auto id = parse_id4(d);
        if (!id) return bad(w, fmt::format("device ID {} is not 4 lowercase hex digits", d.dump()));
        into.pro_ids.insert(std::uint32_t(*vid) << 16 | *id);
      }
    }
  }
  int vi = 0;
  for (const auto& v : doc.at("vendors")) {
    Where w{file, fmt::format("vendor {}", vi++)};
    if (!v.is_object()) return bad(w, "a vendor must be a JSON object");
    for (const auto& [k, x] : v.items()) {
      (void)x;
      if (k != "vendor_id" && k != "key" && k != "name" && k != "defaults")
        return bad(w, fmt::format("unknown field '{}'", k));
    }
    DbVendor out;
    auto id = v.contains("vendor_id") ? parse_id4(v.at("vendor_id")) : std::nullopt;
    if (!id) return bad(w, "field 'vendor_id' must be 4 lowercase hex digits");
    out.vendor_id = *id;
    auto key = req_string(v, "key", w);
    if (!key) return tl::unexpected(key.error());
    out.key = *key;
    auto nm = req_string(v, "name", w);
    if (!nm) return tl::unexpected(nm.error());
    out.name = *nm;
    if (!v.contains("defaults") || !v.at("defaults").is_object())
      return bad(w, "field 'defaults' must be an object");
    if (auto k = check_keys(v.at("defaults"), w, false); !k) return tl::unexpected(k.error());
    auto caps = parse_caps(v.at("defaults"), w);
    if (!caps) return tl::unexpected(caps.error());
    out.defaults = std::move(*caps);
    into.vendors.push_back(std::move(out));
  }
  int i = 0;
  for (const auto& e : doc.at("entries")) {
    std::string label = e.is_object() && e.contains("codename") && e.at("codename").is_string()
                            ? fmt::format("entry {} ({})", i, e.at("codename").get<std::string>())
                            : fmt::format("entry {}", i);
    auto entry = parse_entry(e, Where{file, label});
    if (!entry) return tl::unexpected(entry.error());
    entry->file = file;
    entry->index = i++;
    into.entries.push_back(std::move(*entry));
  }
  into.files.push_back(file);
  return {};
}

Status validate_gpu_db(const GpuDb& db) {
  std::set<std::uint16_t> vendors;
  for (const auto& v : db.vendors)
    if (!vendors.insert(v.vendor_id).second)
      return fail(fmt::format("vendor {} is declared twice", hex4(v.vendor_id)));
  // (vendor, device, revision or -1) -> first entry that claims it
  std::map<std::tuple<int, int, int>, const DbEntry*> seen;
  for (const auto& e : db.entries) {
    auto where = fmt::format("{}: entry {} ({})", e.file, e.index, e.codename);
    if (!vendors.count(e.vendor_id))
      return fail(fmt::format("{}: vendor {} is not declared in any 'vendors' list", where,
                              hex4(e.vendor_id)),
                  e.file);
    std::vector<int> revs;
    for (auto r : e.revisions) revs.push_back(r);
    if (revs.empty()) revs.push_back(-1);
    for (auto id : e.device_ids)
      for (int r : revs) {
        auto [it, fresh] = seen.emplace(std::tuple{int(e.vendor_id), int(id), r}, &e);
        if (!fresh)
          return fail(fmt::format("{}: device {}:{} is already in {} entry {} ({})", where,
                                  hex4(e.vendor_id), hex4(id), it->second->file, it->second->index,
                                  it->second->codename),
                      e.file);
      }
  }
  // Ranges of one vendor must nest or be disjoint, so "the narrowest range" is unambiguous.
  for (std::size_t a = 0; a < db.entries.size(); ++a)
    for (std::size_t b = a; b < db.entries.size(); ++b) {
      const auto &ea = db.entries[a], &eb = db.entries[b];
      if (ea.vendor_id != eb.vendor_id) continue;
      for (std::size_t i = 0; i < ea.device_ranges.size(); ++i)
        for (std::size_t j = (a == b ? i + 1 : 0); j < eb.device_ranges.size(); ++j) {
          const IdRange &x = ea.device_ranges[i], &y = eb.device_ranges[j];
          bool disjoint = x.last < y.first || y.last < x.first;
          bool nested =
              (x.first <= y.first && y.last <= x.last) || (y.first <= x.first && x.last <= y.last);
          bool same = x.first == y.first && x.last == y.last;
          if (!disjoint && (!nested || same))
            return fail(
                fmt::format("{}: entry {} ({}): range {}-{} overlaps range {}-{} of entry {} ({}) "
                            "without nesting",
                            ea.file, ea.index, ea.codename, hex4(x.first), hex4(x.last),
                            hex4(y.first), hex4(y.last), eb.index, eb.codename),
                ea.file);
        }
    }
  return {};
}

const DbVendor* GpuDb::find_vendor(std::uint16_t vendor) const {
  for (const auto& v : vendors)
    if (v.vendor_id == vendor) return &v;
  return nullptr;
}

DbMatch GpuDb::lookup(std::uint16_t vendor, std::uint16_t device,
                      std::optional<std::uint8_t> revision) const {
  DbMatch m;
  m.vendor = find_vendor(vendor);
  const DbEntry* exact = nullptr;
  const DbEntry* ranged = nullptr;
  int best_width = 0x10000;
  for (const auto& e : entries) {
    if (e.vendor_id != vendor) continue;
    if (std::find(e.device_ids.begin(), e.device_ids.end(), device) != e.device_ids.end()) {
      if (!e.revisions.empty()) {
        if (revision &&
            std::find(e.revisions.begin(), e.revisions.end(), *revision) != e.revisions.end()) {
          m.kind = MatchKind::exact_revision;
          m.entry = &e;
          return m;
        }
        continue;
      }
      if (!exact) exact = &e;
    }
    for (const auto& r : e.device_ranges)
      if (r.first <= device && device <= r.last && r.last - r.first < best_width) {
        best_width = r.last - r.first;
        ranged = &e;
      }
  }
  if (exact) {
    m.kind = MatchKind::exact;
    m.entry = exact;
  } else if (ranged) {
    m.kind = MatchKind::range;
    m.entry = ranged;
  } else {
    m.kind = m.vendor ? MatchKind::vendor_default : MatchKind::unknown_vendor;
  }
  return m;
}

Result<GpuDb> load_embedded_gpu_db() {
  GpuDb db;
  for (int i = 0; i < gpudb::kEmbeddedCount; ++i) {
    const auto& [name, text] = gpudb::kEmbedded[i];
    if (auto r = parse_gpu_db_file(std::string("embedded:") + std::string(name), text, db); !r)
      return tl::unexpected(r.error());
  }
  if (auto r = validate_gpu_db(db); !r) return tl::unexpected(r.error());
  return db;
}

Result<GpuDb> load_gpu_db_dir(const Fs& fs, std::string_view dir) {
  auto names = fs.list_dir(dir);
  if (!names) return tl::unexpected(names.error());
  GpuDb db;
  for (const auto& n : *names) {
    if (n.size() < 6 || n.substr(n.size() - 5) != ".json") continue;
    std::string p = path_join(dir, n);
    auto text = fs.read_file(p);
    if (!text) return tl::unexpected(text.error());
    if (auto r = parse_gpu_db_file(fs.display(p), *text, db); !r) return tl::unexpected(r.error());
  }
  if (db.files.empty())
    return fail("no *.json GPU database files in this directory", fs.display(dir));
  if (auto r = validate_gpu_db(db); !r) return tl::unexpected(r.error());
  return db;
}

}  // namespace exliar::gpu
