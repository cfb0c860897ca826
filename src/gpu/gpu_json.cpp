#include "gpu/gpu_json.h"

#include <map>

namespace exliar::gpu {

using json = nlohmann::ordered_json;

namespace {
template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
}  // namespace

json caps_to_json(const GpuInfo& g) {
  const GpuCaps& c = g.caps;
  json j;
  j["known"] = g.known;
  j["match"] = to_string(g.match);
  j["name"] = g.name;
  j["codename"] = g.known ? json(g.codename) : json(nullptr);
  j["architecture"] = g.known ? json(g.architecture) : json(nullptr);
  j["generation"] = g.known ? json(g.generation) : json(nullptr);
  j["role"] = g.role;
  j["integrated"] = g.gpu.integrated;
  j["drivers"] = c.drivers;
  j["supports_reset"] = opt(c.supports_reset);
  j["has_reset_bug"] = opt(c.has_reset_bug);
  j["vendor_reset_supported"] = c.vendor_reset_supported;
  j["reset_method"] = opt(c.reset_method);
  j["requires_acs_override"] = nullptr;  // a board fact: see the gpus[].isolation field
  j["supports_fbc"] = opt(c.supports_fbc);
  j["supports_gvt"] = c.supports_gvt;
  j["supports_sriov"] = opt(c.supports_sriov);
  j["code43"] = to_string(c.code43);
  j["qemu_reset_quirk"] = c.qemu_reset_quirk;
  j["supports_vbios_loading"] = c.supports_vbios_loading;
  j["vbios_needed"] = to_string(c.vbios_needed);
  j["notes"] = opt(c.notes);
  j["source"] = c.source;
  j["entry"] = g.db_source;
  return j;
}

void augment_gpu_json(json& jg, const GpuInfo& g) {
  jg["integrated"] = g.gpu.integrated;
  json comps = json::array();
  for (const auto& c : g.companions)
    comps.push_back(
        {{"address", c.address.str()}, {"kind", to_string(c.kind)}, {"same_slot", c.same_slot}});
  jg["companions"] = std::move(comps);
  jg["switch_upstream"] = g.switch_upstream ? json(g.switch_upstream->str()) : json(nullptr);
  jg["db"] = caps_to_json(g);
}

}  // namespace exliar::gpu
