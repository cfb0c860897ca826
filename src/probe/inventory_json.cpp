#include "probe/inventory_json.h"

#include "host/text.h"

namespace exliar {

using json = nlohmann::ordered_json;

namespace {

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json addresses(const std::vector<PciAddress>& as) {
  json a = json::array();
  for (const auto& x : as) a.push_back(x.str());
  return a;
}

}  // namespace

json device_to_json(const PciDevice& d) {
  json j;
  j["address"] = d.address.str();
  j["vendor_id"] = hex4(d.vendor_id);
  j["device_id"] = hex4(d.device_id);
  if (d.subsystem_vendor_id) j["subsystem_vendor_id"] = hex4(*d.subsystem_vendor_id);
  if (d.subsystem_device_id) j["subsystem_device_id"] = hex4(*d.subsystem_device_id);
  j["class"] = hex6(d.class_code);
  if (d.revision) j["revision"] = hex2(*d.revision);
  j["vendor_name"] = opt(d.vendor_name);
  j["device_name"] = opt(d.device_name);
  j["driver"] = opt(d.driver);
  j["iommu_group"] = opt(d.iommu_group);
  j["boot_vga"] = d.boot_vga;
  j["parent"] = d.parent ? json(d.parent->str()) : json(nullptr);
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  return j;
}

json gpu_to_json(const Gpu& g) {
  json j;
  j["address"] = g.address.str();
  j["vendor"] = to_string(g.vendor);
  j["functions"] = addresses(g.functions);
  j["integrated"] = g.integrated;
  j["boot_vga"] = g.boot_vga;
  j["iommu_group"] = opt(g.iommu_group);
  j["isolation"] = to_string(g.isolation);
  j["shared_with"] = addresses(g.shared_with);
  return j;
}

json system_to_json(const System& s) {
  json sys;
  sys["kernel"] = opt(s.kernel);
  sys["distro"] = {{"id", opt(s.distro.id)},
                   {"id_like", s.distro.id_like},
                   {"version_id", opt(s.distro.version_id)},
                   {"pretty_name", opt(s.distro.pretty_name)}};
  sys["cpu"] = {{"vendor", to_string(s.cpu.vendor)},
                {"model", opt(s.cpu.model)},
                {"virtualization", to_string(s.cpu.virtualization)}};
  sys["bootloader"] = to_string(s.bootloader);
  sys["init_system"] = to_string(s.init);
  sys["initramfs"] = to_string(s.initramfs);
  sys["secure_boot"] = to_string(s.secure_boot);
  sys["iommu"] = {{"active", s.iommu.active},
                  {"group_count", s.iommu.group_count},
                  {"cmdline", s.iommu.cmdline}};
  return sys;
}

json group_to_json(const IommuGroup& g) {
  return {{"id", g.id}, {"devices", addresses(g.devices)}};
}

json note_to_json(const ProbeNote& n) { return {{"path", n.path}, {"message", n.message}}; }

}  // namespace exliar
