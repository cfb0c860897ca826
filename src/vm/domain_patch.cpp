// Domain mode: add one GPU to a `virsh dumpxml` document.
//
// Guarantee: an unchanged document comes back byte for byte (so a second run adds nothing);
// otherwise everything outside the nodes exliar owns keeps its structure, comments,
// whitespace and the quote character of every attribute, and the bytes before and after the
// root element are copied verbatim. The root is re-serialised from the parsed tree, so
// character references come back normalised (&#x41; -> A, &gt; always escaped) and an empty
// element written <a></a> comes back as <a/>.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "vm/hostdev_build.h"
#include "vm/vm_xml.h"
#include "vm/xml_edit.h"

namespace exliar::vm {

namespace {

pugi::xml_node next_element(pugi::xml_node n) {
  for (auto s = n.next_sibling(); s; s = s.next_sibling())
    if (s.type() == pugi::node_element) return s;
  return {};
}

bool is_q35(pugi::xml_node root) {
  std::string_view machine = root.child("os").child("type").attribute("machine").value();
  if (machine.find("q35") != std::string_view::npos) return true;
  for (auto c : root.child("devices").children("controller"))
    if (std::string_view(c.attribute("model").value()) == "pcie-root") return true;
  return false;
}

struct Patcher {
  pugi::xml_node root;
  const Passthrough& p;
  PatchResult& out;
  bool q35 = false;

  void note(std::string what) {
    out.changed = true;
    out.actions.push_back(std::move(what));
  }

  /// Buses and bus-0 slots taken by guest addresses (not hostdev <source> addresses).
  void used_addresses(pugi::xml_node devices, std::set<std::uint32_t>& buses,
                      std::set<std::uint32_t>& root_slots) {
    for (auto n : devices.select_nodes(".//address[@type='pci']")) {
      auto a = n.node();
      if (std::string_view(a.parent().name()) == "source") continue;
      if (auto x = read_pci_address(a)) {
        buses.insert(x->bus);
        if (x->bus == 0) root_slots.insert(x->slot);
      }
    }
  }

  Result<GuestSlot> choose_slot(pugi::xml_node devices) {
    std::set<std::uint32_t> buses, root_slots;
    used_addresses(devices, buses, root_slots);
    if (!q35) {
      // i440fx: conventional PCI, so a free slot of the root bus. Slot 1 is the PIIX3
      // chipset and slot 2 the primary video that libvirt reserves; leave both alone.
      for (std::uint32_t s = 3; s <= 0x1f; ++s)
        if (!root_slots.count(s)) return GuestSlot{0, 0, s};
      return fail("no free slot on the guest's PCI root bus (bus 0x00)");
    }
    // q35: the GPU sits alone behind a pcie-root-port (slot 0, functions kept), as on the
    // host. Reuse an empty port (virt-manager adds spares for hotplug), else add one.
    std::uint32_t max_index = 0;
    pugi::xml_node last_pci;
    for (auto c : devices.children("controller")) {
      if (std::string_view(c.attribute("type").value()) != "pci") continue;
      auto idx = parse_xml_number(c.attribute("index").value());
      if (!idx) continue;
      max_index = std::max(max_index, *idx);
      last_pci = c;
      if (std::string_view(c.attribute("model").value()) == "pcie-root-port" && !buses.count(*idx))
        return GuestSlot{0, *idx, 0};
    }
    std::uint32_t idx = max_index + 1;
    if (idx > 255) return fail("the domain has no free PCI controller index for a root port");
    pugi::xml_document scratch;
    auto c = scratch.append_child("controller");
    c.append_attribute("type") = "pci";
    c.append_attribute("index") = std::to_string(idx).c_str();
    c.append_attribute("model") = "pcie-root-port";
    insert_indented(devices, c, last_pci ? next_element(last_pci) : pugi::xml_node{});
    note(fmt::format("added pcie-root-port controller index {} for the GPU", idx));
    return GuestSlot{0, idx, 0};
  }

  void fix_existing(pugi::xml_node h, const PassFunction& f, GuestSlot slot) {
    auto attrs = guest_address_attrs(p, f, slot);
    auto ga = guest_address_node(h);
    bool changed = false;
    if (!ga) {
      pugi::xml_document scratch;
      auto a = scratch.append_child("address");
      for (const auto& [k, v] : attrs) a.append_attribute(k.c_str()) = v.c_str();
      ga = insert_indented(h, a);
      changed = true;
    } else {
      for (const auto& [k, v] : attrs) changed |= set_attr(ga, k.c_str(), v);
    }
    if (auto rom = rom_node_for(p, f); !rom.empty()) {
      if (auto r = h.child("rom")) {
        for (const auto& [k, v] : rom) changed |= set_attr(r, k.c_str(), v);
      } else {
        pugi::xml_document scratch;
        auto r2 = scratch.append_child("rom");
        for (const auto& [k, v] : rom) r2.append_attribute(k.c_str()) = v.c_str();
        insert_indented(h, r2, ga);
        changed = true;
      }
    }
    if (changed) note("adjusted the existing <hostdev> of " + f.host.str());
  }

  void add_feature(pugi::xml_node features, const char* name, const char* child, const Attrs& attrs,
                   const std::string& what) {
    auto parent = features;
    if (child) {
      parent = features.child(name);
      if (!parent) {
        pugi::xml_document scratch;
        auto e = scratch.append_child(name).append_child(child);
        for (const auto& [k, v] : attrs) e.append_attribute(k.c_str()) = v.c_str();
        insert_indented(features, scratch.first_child());
        note("added " + what);
        return;
      }
    }
    const char* leaf = child ? child : name;
    if (auto e = parent.child(leaf)) {
      bool changed = false;
      for (const auto& [k, v] : attrs) changed |= set_attr(e, k.c_str(), v);
      if (changed) note("set " + what);
      return;
    }
    pugi::xml_document scratch;
    auto e = scratch.append_child(leaf);
    for (const auto& [k, v] : attrs) e.append_attribute(k.c_str()) = v.c_str();
    insert_indented(parent, e);
    note("added " + what);
  }

  void features() {
    const auto& s = p.snippets;
    if (!wants_features(s)) return;
    auto f = root.child("features");
    if (!f) {
      pugi::xml_document scratch;
      auto nf = scratch.append_child("features");
      build_features(nf, s, q35);
      // libvirt writes <features> after <os>; the schema does not care about the order.
      auto os = root.child("os");
      insert_indented(root, nf, os ? next_element(os) : pugi::xml_node{});
      note("added <features> with the GPU's guest-driver snippets");
      return;
    }
    if (s.hyperv_vendor_id)
      add_feature(f, "hyperv", "vendor_id", {{"state", "on"}, {"value", *s.hyperv_vendor_id}},
                  "Hyper-V vendor_id");
    if (s.hide_kvm) add_feature(f, "kvm", "hidden", {{"state", "on"}}, "hidden KVM");
    if ((s.ioapic_kvm || s.hide_kvm) && q35)
      add_feature(f, "ioapic", nullptr, {{"driver", "kvm"}}, "<ioapic driver='kvm'/>");
  }

  Status run() {
    q35 = is_q35(root);
    auto devices = root.child("devices");
    if (!devices) {
      pugi::xml_document scratch;
      devices = insert_indented(root, scratch.append_child("devices"));
      note("added <devices>");
    }
    std::map<PciAddress, pugi::xml_node> existing;
    for (auto h : devices.children("hostdev"))
      if (auto src = hostdev_source(h)) existing.emplace(*src, h);

    // Keep the guest slot the user (or an earlier run) gave the GPU.
    std::optional<GuestSlot> slot;
    std::vector<PciAddress> order = {p.gpu};
    for (const auto& f : p.functions) order.push_back(f.host);
    for (const auto& a : order) {
      auto it = existing.find(a);
      if (it == existing.end()) continue;
      if (auto g = read_pci_address(guest_address_node(it->second))) {
        slot = GuestSlot{g->domain, g->bus, g->slot};
        break;
      }
    }
    if (!slot) {
      auto s = choose_slot(devices);
      if (!s) return tl::unexpected(s.error());
      slot = *s;
    }
    pugi::xml_node last_hostdev;
    for (auto h : devices.children("hostdev")) last_hostdev = h;
    for (const auto& f : p.functions) {
      if (auto it = existing.find(f.host); it != existing.end()) {
        fix_existing(it->second, f, *slot);
        continue;
      }
      pugi::xml_document scratch;
      build_hostdev(scratch, p, f, *slot);
      auto before = last_hostdev ? next_element(last_hostdev) : pugi::xml_node{};
      for (auto n : scratch.children()) {
        auto made = insert_indented(devices, n, before);
        if (made.type() == pugi::node_element) last_hostdev = made;
      }
      note(fmt::format("added <hostdev> for {} ({}) at guest {}:{}.{}", f.host.str(),
                       function_role(f.class_code), hex_attr(slot->bus, 2), hex_attr(slot->slot, 2),
                       f.host.fn));
    }
    features();
    return {};
  }
};

}  // namespace

Result<PatchResult> patch_domain(std::string_view text, const Passthrough& p,
                                 std::string_view source_name) {
  pugi::xml_document doc;
  auto parsed = parse_domain(doc, text, source_name);
  if (!parsed) return tl::unexpected(parsed.error());
  auto root = *parsed;
  PatchResult out;
  Patcher patcher{root, p, out};
  if (auto r = patcher.run(); !r) {
    auto e = r.error();
    e.path = std::string(source_name);
    return tl::unexpected(e);
  }
  if (!out.changed) {
    out.xml = std::string(text);
    return out;
  }
  // Bytes before the root (declaration, comments) and after its end tag are copied as they
  // were; the root itself is re-serialised raw, so its whitespace text nodes come back.
  auto off = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, root.offset_debug()));
  std::size_t start = text.rfind('<', off);
  if (start == std::string_view::npos) start = 0;
  std::string_view suffix;
  if (auto end = text.rfind("</domain"); end != std::string_view::npos) {
    auto gt = text.find('>', end);
    if (gt != std::string_view::npos) suffix = text.substr(gt + 1);
  }
  // New elements follow the document's majority quote style (virsh writes ', but keeps
  // the " of metadata written by other tools).
  std::size_t single = 0, dbl = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    if (text[i] == '=') {
      single += text[i + 1] == '\'';
      dbl += text[i + 1] == '"';
    }
  std::string body = serialize_preserving(root, text, single >= dbl ? '\'' : '"');
  out.xml = std::string(text.substr(0, start)) + body + std::string(suffix);
  return out;
}

}  // namespace exliar::vm
