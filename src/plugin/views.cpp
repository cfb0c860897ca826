#include "plugin/views.h"

#include <cstring>

#include "host/text.h"

namespace exliar {

namespace {

bool is_gpu(const PciDevice& d, const Inventory& inv) { return inv.find_gpu(d.address) != nullptr; }

const char* c_str(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

void fill(exliar_device_view& v, const DeviceFacts& f) {
  v.struct_size = sizeof v;
  v.address = f.address.c_str();
  v.vendor_id = f.vendor_id;
  v.device_id = f.device_id;
  v.subsystem_vendor_id = f.subsystem_vendor_id;
  v.subsystem_device_id = f.subsystem_device_id;
  v.class_code = f.class_code;
  v.driver = c_str(f.driver);
  v.iommu_group = f.iommu_group;
  v.is_gpu = f.is_gpu ? 1 : 0;
  v.boot_vga = f.boot_vga ? 1 : 0;
  v.vendor_name = c_str(f.vendor_name);
  v.device_name = c_str(f.device_name);
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
  // strnlen: never read further than one byte past the limit of an unterminated string.
  if (::strnlen(key, kMaxAnnotationBytes + 1) > kMaxAnnotationBytes ||
      ::strnlen(value, kMaxAnnotationBytes + 1) > kMaxAnnotationBytes)
    return -1;
  a->out[a->plugin + "." + bounded_string(key, kMaxAnnotationBytes)] =
      bounded_string(value, kMaxAnnotationBytes);
  return 0;
}

nlohmann::json opt(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}
std::optional<std::string> opt_from(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::string>();
}

}  // namespace

std::string bounded_string(const char* s, size_t max) {
  if (!s) return {};
  std::string out(s, ::strnlen(s, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

DeviceFacts device_facts(const PciDevice& d, bool gpu, bool with_names) {
  DeviceFacts f;
  f.address = d.address.str();
  f.vendor_id = d.vendor_id;
  f.device_id = d.device_id;
  f.subsystem_vendor_id = d.subsystem_vendor_id.value_or(0);
  f.subsystem_device_id = d.subsystem_device_id.value_or(0);
  f.class_code = d.class_code;
  f.driver = d.driver;
  if (with_names) {
    f.vendor_name = d.vendor_name;
    f.device_name = d.device_name;
  }
  f.iommu_group = d.iommu_group.value_or(-1);
  f.is_gpu = gpu;
  f.boot_vga = d.boot_vga;
  return f;
}

nlohmann::json facts_json(const DeviceFacts& f) {
  return {{"address", f.address},
          {"vendor_id", f.vendor_id},
          {"device_id", f.device_id},
          {"subsystem_vendor_id", f.subsystem_vendor_id},
          {"subsystem_device_id", f.subsystem_device_id},
          {"class_code", f.class_code},
          {"driver", opt(f.driver)},
          {"vendor_name", opt(f.vendor_name)},
          {"device_name", opt(f.device_name)},
          {"iommu_group", f.iommu_group},
          {"is_gpu", f.is_gpu},
          {"boot_vga", f.boot_vga}};
}

DeviceFacts facts_from_json(const nlohmann::json& j) {
  DeviceFacts f;
  f.address = j.at("address").get<std::string>();
  f.vendor_id = j.at("vendor_id").get<std::uint16_t>();
  f.device_id = j.at("device_id").get<std::uint16_t>();
  f.subsystem_vendor_id = j.at("subsystem_vendor_id").get<std::uint16_t>();
  f.subsystem_device_id = j.at("subsystem_device_id").get<std::uint16_t>();
  f.class_code = j.at("class_code").get<std::uint32_t>();
  f.driver = opt_from(j.at("driver"));
  f.vendor_name = opt_from(j.at("vendor_name"));
  f.device_name = opt_from(j.at("device_name"));
  f.iommu_group = j.at("iommu_group").get<int>();
  f.is_gpu = j.at("is_gpu").get<bool>();
  f.boot_vga = j.at("boot_vga").get<bool>();
  return f;
}

BindFacts bind_facts(const BindEvent& e) {
  BindFacts b{e.transaction_id, e.kind, {}};
  for (const auto& d : e.devices) {
    bool gpu = false;
    for (const auto& g : e.gpus) gpu |= g == d.address;
    b.devices.push_back(device_facts(d, gpu, false));
  }
  return b;
}

nlohmann::json bind_facts_json(const BindFacts& b) {
  nlohmann::json devs = nlohmann::json::array();
  for (const auto& d : b.devices) devs.push_back(facts_json(d));
  return {{"transaction_id", b.transaction_id}, {"kind", b.kind}, {"devices", devs}};
}

BindFacts bind_facts_from_json(const nlohmann::json& j) {
  BindFacts b;
  b.transaction_id = j.at("transaction_id").get<std::string>();
  b.kind = j.at("kind").get<std::string>();
  for (const auto& d : j.at("devices")) b.devices.push_back(facts_from_json(d));
  return b;
}

DeviceView::DeviceView(const DeviceFacts& f) : facts(f) { fill(c, facts); }

BindView::BindView(const BindFacts& b) : facts(b) {
  for (const auto& d : facts.devices) {
    exliar_device_view v{};
    fill(v, d);
    devices.push_back(v);
  }
  c.struct_size = sizeof c;
  c.transaction_id = facts.transaction_id.c_str();
  c.kind = facts.kind.c_str();
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
