// Gpu -> Passthrough, and the fragment mode (<hostdev> elements to paste into a domain).
#include <fmt/format.h>

#include <algorithm>
#include <pugixml.hpp>
#include <sstream>

#include "gpu/classify.h"
#include "gpu/vendor/handler.h"
#include "vm/hostdev_build.h"
#include "vm/vm_xml.h"
#include "vm/xml_edit.h"

namespace exliar::vm {

Result<Passthrough> make_passthrough(const Gpu& gpu, const std::vector<PciDevice>& devices,
                                     const VmSnippets& snippets,
                                     const std::optional<std::string>& rom_override) {
  Passthrough p;
  p.gpu = gpu.address;
  p.snippets = snippets;
  if (rom_override && !rom_override->empty()) p.snippets.rom_file = rom_override;
  if (p.snippets.rom_file && p.snippets.rom_file->front() != '/')
    return fail("libvirt needs an absolute ROM path, got \"" + *p.snippets.rom_file + "\"");
  if (const auto& v = p.snippets.hyperv_vendor_id;
      v && (v->size() > 12 || v->find(',') != std::string::npos))
    return fail("Hyper-V vendor_id \"" + *v +
                "\" is not accepted by libvirt (at most 12 characters, no comma)");
  std::vector<PciAddress> fns = gpu.functions;
  if (std::find(fns.begin(), fns.end(), gpu.address) == fns.end()) fns.push_back(gpu.address);
  std::sort(fns.begin(), fns.end());
  for (const auto& a : fns) {
    PassFunction f;
    f.host = a;
    auto it = std::find_if(devices.begin(), devices.end(),
                           [&](const PciDevice& d) { return d.address == a; });
    if (it != devices.end()) {
      f.vendor_id = it->vendor_id;
      f.device_id = it->device_id;
      f.class_code = it->class_code;
    }
    p.functions.push_back(f);
  }
  return p;
}

VmSnippets vendor_snippets(const Inventory& inv, const Gpu& gpu, const gpu::GpuDb& db,
                           const VmSnippetOptions& o) {
  for (const auto& g : gpu::classify(inv, db))
    if (g.gpu.address == gpu.address) return gpu::handler_for(g).vm_snippets(g, o);
  return {};
}

std::string function_role(std::uint32_t class_code) {
  // Companion functions of a GPU slot (gpu-knowledge.md 0 and 1.6): HD audio 0403,
  // USB xHCI 0c03, UCSI 0c80 (NVIDIA Turing, AMD Navi).
  switch (class_code >> 8) {
    case 0x0300:
      return "GPU (VGA)";
    case 0x0302:
      return "GPU (3D controller)";
    case 0x0380:
      return "GPU (display)";
    case 0x0403:
      return "audio";
    case 0x0c03:
      return "USB";
    case 0x0c80:
      return "UCSI";
    default:
      return fmt::format("class {:04x}", class_code >> 8);
  }
}

bool is_multifunction(const Passthrough& p) { return p.functions.size() > 1; }

void build_hostdev(pugi::xml_node parent, const Passthrough& p, const PassFunction& f,
                   GuestSlot slot) {
  parent.append_child(pugi::node_comment)
      .set_value(fmt::format(" {} {:04x}:{:04x} {} ", f.host.str(), f.vendor_id, f.device_id,
                             function_role(f.class_code))
                     .c_str());
  auto h = parent.append_child("hostdev");
  h.append_attribute("mode") = "subsystem";
  h.append_attribute("type") = "pci";
  // managed='yes': libvirt binds the function to vfio-pci at start and gives it back after.
  h.append_attribute("managed") = "yes";
  auto src = h.append_child("source").append_child("address");
  src.append_attribute("domain") = hex_attr(f.host.domain, 4).c_str();
  src.append_attribute("bus") = hex_attr(f.host.bus, 2).c_str();
  src.append_attribute("slot") = hex_attr(f.host.dev, 2).c_str();
  src.append_attribute("function") = hex_attr(f.host.fn, 1).c_str();
  if (auto rom = rom_node_for(p, f); !rom.empty()) {
    auto r = h.append_child("rom");
    for (const auto& [k, v] : rom) r.append_attribute(k.c_str()) = v.c_str();
  }
  auto ga = h.append_child("address");
  for (const auto& [k, v] : guest_address_attrs(p, f, slot))
    ga.append_attribute(k.c_str()) = v.c_str();
}

std::vector<std::pair<std::string, std::string>> rom_node_for(const Passthrough& p,
                                                              const PassFunction& f) {
  // The ROM belongs to the GPU function only (audio/USB functions have no option ROM).
  std::vector<std::pair<std::string, std::string>> out;
  if (f.host != p.gpu) return out;
  if (p.snippets.rom_bar_off) out.emplace_back("bar", "off");
  if (p.snippets.rom_file) out.emplace_back("file", *p.snippets.rom_file);
  return out;
}

std::vector<std::pair<std::string, std::string>> guest_address_attrs(const Passthrough& p,
                                                                     const PassFunction& f,
                                                                     GuestSlot slot) {
  std::vector<std::pair<std::string, std::string>> out = {{"type", "pci"},
                                                          {"domain", hex_attr(slot.domain, 4)},
                                                          {"bus", hex_attr(slot.bus, 2)},
                                                          {"slot", hex_attr(slot.slot, 2)},
                                                          {"function", hex_attr(f.host.fn, 1)}};
  // QEMU only scans functions 1-7 of a slot whose function 0 says it is multifunction.
  if (f.host.fn == 0 && is_multifunction(p)) out.emplace_back("multifunction", "on");
  return out;
}

void build_features(pugi::xml_node features, const VmSnippets& s, bool q35) {
  if (s.hyperv_vendor_id) {
    auto v = features.append_child("hyperv").append_child("vendor_id");
    v.append_attribute("state") = "on";
    v.append_attribute("value") = s.hyperv_vendor_id->c_str();
  }
  if (s.hide_kvm)
    features.append_child("kvm").append_child("hidden").append_attribute("state") = "on";
  // QEMU >= 4.0 q35 defaults to kernel_irqchip=split, which breaks hidden KVM (kubevirt#5619);
  // libvirt only accepts <ioapic> on q35.
  if ((s.ioapic_kvm || s.hide_kvm) && q35)
    features.append_child("ioapic").append_attribute("driver") = "kvm";
}

bool wants_features(const VmSnippets& s) {
  return s.hide_kvm || s.hyperv_vendor_id.has_value() || s.ioapic_kvm;
}

std::string fragment_xml(const Passthrough& p, GuestSlot slot) {
  pugi::xml_document doc;
  doc.append_child(pugi::node_comment)
      .set_value(fmt::format(" exliar: GPU {} ({} function{}) at guest {}:{}:{}; "
                             "paste into <devices> ",
                             p.gpu.str(), p.functions.size(), p.functions.size() == 1 ? "" : "s",
                             hex_attr(slot.domain, 4), hex_attr(slot.bus, 2),
                             hex_attr(slot.slot, 2))
                     .c_str());
  for (const auto& f : p.functions) build_hostdev(doc, p, f, slot);
  if (wants_features(p.snippets)) {
    doc.append_child(pugi::node_comment)
        .set_value(fmt::format(" merge into <features> ({}) ", p.snippets.reason.empty()
                                                                   ? "for the GPU's guest driver"
                                                                   : p.snippets.reason)
                       .c_str());
    build_features(doc.append_child("features"), p.snippets, true);
  }
  std::ostringstream os;
  doc.save(os, "  ",
           pugi::format_indent | pugi::format_no_declaration | pugi::format_attribute_single_quote);
  return os.str();
}

}  // namespace exliar::vm
