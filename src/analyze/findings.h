// analyze: readiness findings from a table of rules. Pure over values: the Inventory, the
// classified GPUs and a few configuration facts read beforehand.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analyze/selftest.h"
#include "gpu/classify.h"
#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar::analyze {

enum class Severity { info, warning, error };
const char* to_string(Severity);

struct Finding {
  std::string id;  ///< stable, kebab-case ("iommu-inactive")
  Severity severity = Severity::info;
  std::string subject;  ///< a GPU address, or "system"
  std::string message;
  std::vector<std::string> evidence;  ///< "what was read (from which file)"
  std::optional<std::string> fix;
  /// Where a database fact comes from (entry, sources, commit ids, research notes): shown
  /// with -v and in JSON only. analyze() fills it for findings citing db_evidence().
  std::vector<std::string> provenance = {};
};

enum class VerdictStatus { ready, warnings, blocked };
const char* to_string(VerdictStatus);

struct Verdict {
  PciAddress gpu;
  VerdictStatus status = VerdictStatus::ready;
  std::string summary;  ///< "ready", "ready with warnings", "not possible: ..."
};

/// A line of a configuration file that mentions something a rule cares about.
struct ConfigMention {
  std::string path;
  int line = 0;
  std::string text;
};

/// What the rules need beyond the Inventory, read once through Fs.
struct ConfigFacts {
  std::vector<ConfigMention> vfio_virqfd;  ///< module lists / cmdline naming vfio_virqfd
  bool vendor_reset_loaded = false;        ///< /sys/module/vendor_reset exists
  bool vfct_present = false;               ///< ACPI VFCT table (AMD APU VBIOS)
  std::vector<MeasuredReset> measured;     ///< records of `exliar test` (kTestResultsDir)
  std::vector<Error> bad_records;          ///< records that did not parse (named, not used)
};

ConfigFacts gather_config_facts(const Fs& fs);

/// "GPU database: NAME": the evidence line of a finding that rests on the GPU database.
std::string db_evidence(const gpu::GpuInfo& g);

struct Report {
  std::vector<Verdict> verdicts;
  std::vector<Finding> findings;
};

/// Everything a rule sees.
struct RuleInput {
  const Inventory& inv;
  const std::vector<gpu::GpuInfo>& gpus;
  const ConfigFacts& facts;
};

struct Rule {
  const char* id;
  const char* summary;
  /// System rules run once; GPU rules once per GPU (g non-null).
  bool per_gpu;
  std::function<void(const RuleInput&, const gpu::GpuInfo* g, std::vector<Finding>&)> run;
};

/// The rule table, in output order.
const std::vector<Rule>& rules();

/// Runs every rule; `only` restricts the GPU rules and verdicts to one GPU.
Report analyze(const Inventory& inv, const std::vector<gpu::GpuInfo>& gpus,
               const ConfigFacts& facts, std::optional<PciAddress> only = std::nullopt);

/// Exit status of `check`: 0 when the chosen GPU (or any GPU) has no error finding.
int check_exit_code(const Report& r);

nlohmann::ordered_json report_to_json(const Report& r);

// Rule families, defined in rules_system.cpp and rules_gpu.cpp.
void add_system_rules(std::vector<Rule>& out);
void add_gpu_rules(std::vector<Rule>& out);

}  // namespace exliar::analyze
