#include "analyze/findings.h"

#include <algorithm>

namespace exliar::analyze {

using json = nlohmann::ordered_json;

const char* to_string(Severity s) {
  switch (s) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    default:
      return "info";
  }
}

const char* to_string(VerdictStatus s) {
  switch (s) {
    case VerdictStatus::blocked:
      return "blocked";
    case VerdictStatus::warnings:
      return "warnings";
    default:
      return "ready";
  }
}

std::string db_evidence(const gpu::GpuInfo& g) { return "GPU database: " + g.name; }

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = [] {
    std::vector<Rule> t;
    add_system_rules(t);
    add_gpu_rules(t);
    return t;
  }();
  return table;
}

Report analyze(const Inventory& inv, const std::vector<gpu::GpuInfo>& gpus,
               const ConfigFacts& facts, std::optional<PciAddress> only) {
  Report r;
  RuleInput in{inv, gpus, facts};
  for (const auto& rule : rules())
    if (!rule.per_gpu) rule.run(in, nullptr, r.findings);
  for (const auto& g : gpus) {
    if (only && g.gpu.address != *only) continue;
    size_t first = r.findings.size();
    for (const auto& rule : rules())
      if (rule.per_gpu) rule.run(in, &g, r.findings);
    std::string cited = db_evidence(g);
    for (size_t i = first; i < r.findings.size(); ++i) {
      auto& f = r.findings[i];
      if (std::find(f.evidence.begin(), f.evidence.end(), cited) != f.evidence.end())
        f.provenance.insert(f.provenance.begin(), g.db_source + "; source: " + g.caps.source);
    }
  }
  for (const auto& g : gpus) {
    if (only && g.gpu.address != *only) continue;
    Verdict v{g.gpu.address, VerdictStatus::ready, "ready"};
    const Finding* first_error = nullptr;
    for (const auto& f : r.findings) {
      if (f.subject != "system" && f.subject != g.gpu.address.str()) continue;
      if (f.severity == Severity::error && !first_error) first_error = &f;
      if (f.severity == Severity::warning && v.status == VerdictStatus::ready) {
        v.status = VerdictStatus::warnings;
        v.summary = "ready with warnings";
      }
    }
    if (first_error) {
      v.status = VerdictStatus::blocked;
      v.summary = "not possible: " + first_error->message;
    }
    r.verdicts.push_back(std::move(v));
  }
  return r;
}

int check_exit_code(const Report& r) {
  bool any_ok = std::any_of(r.verdicts.begin(), r.verdicts.end(),
                            [](const Verdict& v) { return v.status != VerdictStatus::blocked; });
  return any_ok ? 0 : 1;
}

json report_to_json(const Report& r) {
  json out;
  out["schema_version"] = 1;
  json verdicts = json::array();
  for (const auto& v : r.verdicts)
    verdicts.push_back(
        {{"gpu", v.gpu.str()}, {"status", to_string(v.status)}, {"summary", v.summary}});
  json findings = json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"id", f.id},
                        {"severity", to_string(f.severity)},
                        {"subject", f.subject},
                        {"message", f.message},
                        {"evidence", f.evidence},
                        {"fix", f.fix ? json(*f.fix) : json(nullptr)},
                        {"provenance", f.provenance}});
  out["verdicts"] = std::move(verdicts);
  out["findings"] = std::move(findings);
  return out;
}

}  // namespace exliar::analyze
