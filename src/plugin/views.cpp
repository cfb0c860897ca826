#include "plugin/views.h"

#include <nlohmann/json.hpp>

#include "host/text.h"

namespace exliar {

namespace {

bool is_gpu(const PciDevice& d, const Inventory& inv) { return inv.find_gpu(d.address) != nullptr; }

void fill(exliar_device_view& v, const PciDevice& d, const char* address, const char* driver,
          const char* vname, const char* dname, bool gpu) {
  v.struct_size = sizeof v;
  v.address = address;
  v.vendor_id = d.vendor_id;
  v.device_id = d.device_id;
  v.subsystem_vendor_id = d.subsystem_vendor_id.value_or(0);
  v.subsystem_device_id = d.subsystem_device_id.value_or(0);
  v.class_code = d.class_code;
  v.driver = driver;
  v.iommu_group = d.iommu_group.value_or(-1);
  v.is_gpu = gpu ? 1 : 0;
  v.boot_vga = d.boot_vga ? 1 : 0;
  v.vendor_name = vname;
  v.device_name = dname;
}

nlohmann::ordered_json device_json(const PciDevice& d) {
  nlohmann::ordered_json j;
  j["address"] = d.address.str();
  j["vendor_id"] = hex4(d.vendor_id);
  j["device_id"] = hex4(d.device_id);
  j["class"] = hex6(d.class_code);
  j["driver"] = d.driver ? nlohmann::ordered_json(*d.driver) : nullptr;
  j["iommu_group"] = d.iommu_group ? nlohmann::ordered_json(*d.iommu_group) : nullptr;
  return j;
}

int annotate_cb(void* opaque, const char* key, const char* value) {
  auto* a = static_cast<Annotator*>(opaque);
  if (!key || !value || !*key) return -1;
  std::string k(key), v(value);
  if (k.size() > 256 || v.size() > 256) return -1;
  a->out[a->plugin + "." + k] = v;
  return 0;
}

}  // namespace

DeviceView::DeviceView(const PciDevice& d, const Inventory& inv)
    : address(d.address.str()),
      driver(d.driver.value_or("")),
      vendor_name(d.vendor_name.value_or("")),
      device_name(d.device_name.value_or("")) {
  fill(c, d, address.c_str(), d.driver ? driver.c_str() : nullptr,
       d.vendor_name ? vendor_name.c_str() : nullptr, d.device_name ? device_name.c_str() : nullptr,
       is_gpu(d, inv));
}

BindView::BindView(const BindEvent& e) {
  strings.reserve(e.devices.size() * 2 + 2);
  strings.push_back(e.transaction_id);
  strings.push_back(e.kind);
  for (const auto& d : e.devices) {
    strings.push_back(d.address.str());
    const char* addr = strings.back().c_str();
    const char* drv = nullptr;
    if (d.driver) {
      strings.push_back(*d.driver);
      drv = strings.back().c_str();
    }
    bool gpu = false;
    for (const auto& g : e.gpus) gpu |= g == d.address;
    exliar_device_view v{};
    fill(v, d, addr, drv, nullptr, nullptr, gpu);
    devices.push_back(v);
  }
  c.struct_size = sizeof c;
  c.transaction_id = strings[0].c_str();
  c.kind = strings[1].c_str();
  c.device_count = devices.size();
  c.devices = devices.data();
}

Annotator::Annotator(std::map<std::string, std::string>& o, std::string p)
    : out(o), plugin(std::move(p)) {
  c.opaque = this;
  c.annotate = annotate_cb;
}

std::string hook_json(const char* hook, const std::map<std::string, std::string>& extra) {
  nlohmann::ordered_json j;
  j["event"] = hook;
  for (const auto& [k, v] : extra) j[k] = v;
  return j.dump();
}

std::string device_event_json(const PciDevice& d, const Inventory& inv) {
  nlohmann::ordered_json j;
  j["event"] = "on_device_detect";
  j["device"] = device_json(d);
  j["device"]["is_gpu"] = is_gpu(d, inv);
  return j.dump();
}

std::string bind_event_json(const char* hook, const BindEvent& e) {
  nlohmann::ordered_json j;
  j["event"] = hook;
  j["transaction_id"] = e.transaction_id;
  j["kind"] = e.kind;
  j["devices"] = nlohmann::ordered_json::array();
  for (const auto& d : e.devices) j["devices"].push_back(device_json(d));
  return j.dump();
}

}  // namespace exliar
