#include "analyze/recommend.h"

#include <fmt/format.h>

#include "host/text.h"

namespace exliar::analyze {

namespace {

bool own_error(const Report& r, const PciAddress& a) {
  for (const auto& f : r.findings)
    if (f.subject == a.str() && f.severity == Severity::error) return true;
  return false;
}

bool system_error(const Report& r) {
  for (const auto& f : r.findings)
    if (f.subject == "system" && f.severity == Severity::error) return true;
  return false;
}

std::string list(const std::vector<const gpu::GpuInfo*>& gs) {
  std::vector<std::string> s;
  for (const auto* g : gs) s.push_back(g->gpu.address.str());
  return join(s, ", ");
}

// Tiers from best to worst; the first tier holding exactly one GPU wins, a tier with
// several is a choice the user has to make.
struct Tier {
  const char* why;
  bool (*fits)(const gpu::GpuInfo&);
};

const Tier kTiers[] = {
    {"the only discrete GPU that is not the boot GPU and has an IOMMU group of its own",
     [](const gpu::GpuInfo& g) {
       return !g.gpu.integrated && g.gpu.isolation == Isolation::isolated;
     }},
    {"the only discrete GPU that is not the boot GPU (its IOMMU isolation is known once the "
     "IOMMU is on)",
     [](const gpu::GpuInfo& g) {
       return !g.gpu.integrated && g.gpu.isolation == Isolation::no_iommu;
     }},
    {"the only GPU that is not the boot GPU (it shares its IOMMU group: see the findings)",
     [](const gpu::GpuInfo& g) { return !g.gpu.integrated; }},
    {"the only GPU that is not the boot GPU (an integrated one)",
     [](const gpu::GpuInfo&) { return true; }},
};

}  // namespace

Recommendation recommend(const Report& r, const std::vector<gpu::GpuInfo>& gpus) {
  Recommendation rec;
  if (gpus.empty()) {
    rec.reason = "no GPU found on this system: there is nothing to pass through";
    return rec;
  }
  // Never the boot GPU or one with a blocking finding of its own (the host keeps a display;
  // system-wide blockers such as the IOMMU being off are what the plan fixes).
  std::vector<const gpu::GpuInfo*> eligible;
  for (const auto& g : gpus)
    if (g.passthrough_target() && !g.gpu.boot_vga && !own_error(r, g.gpu.address))
      eligible.push_back(&g);
  for (const auto* g : eligible) rec.candidates.push_back(g->gpu.address);
  if (eligible.empty()) {
    std::vector<std::string> why;
    for (const auto& g : gpus) {
      std::string w = g.gpu.address.str() + " is ";
      if (!g.passthrough_target())
        w += "not a GPU that can be given to a VM";
      else if (own_error(r, g.gpu.address))
        w += "blocked (see its error findings)";
      else
        w += "the boot GPU (the host would lose its display)";
      why.push_back(w);
    }
    rec.reason = "no GPU to recommend: " + join(why, "; ");
    return rec;
  }
  for (const auto& tier : kTiers) {
    std::vector<const gpu::GpuInfo*> in;
    for (const auto* g : eligible)
      if (tier.fits(*g)) in.push_back(g);
    if (in.empty()) continue;
    if (in.size() > 1) {
      rec.reason =
          fmt::format("several GPUs fit equally well ({}): choose one with --gpu ADDR", list(in));
      return rec;
    }
    rec.gpu = in.front()->gpu.address;
    rec.reason = tier.why;
    break;
  }
  rec.next = "exliar plan --gpu " + rec.gpu->str();
  // A system-wide blocker (IOMMU off, ...) is what the plan fixes; say so.
  if (system_error(r))
    rec.reason +=
        "; the system errors listed under System must be fixed as well (the plan "
        "fixes those it can)";
  return rec;
}

nlohmann::ordered_json recommendation_to_json(const Recommendation& rec) {
  nlohmann::ordered_json j;
  j["gpu"] = rec.gpu ? nlohmann::ordered_json(rec.gpu->str()) : nlohmann::ordered_json(nullptr);
  j["reason"] = rec.reason;
  nlohmann::ordered_json c = nlohmann::ordered_json::array();
  for (const auto& a : rec.candidates) c.push_back(a.str());
  j["candidates"] = c;
  j["next"] = rec.next ? nlohmann::ordered_json(*rec.next) : nlohmann::ordered_json(nullptr);
  return j;
}

}  // namespace exliar::analyze
