// Which GPU `check` recommends passing through, and why (or why none): the isolated,
// non-boot, discrete GPU with no blocking finding of its own. `plan --gpu auto` picks the
// same GPU, so the next command `check` prints and `auto` never disagree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyze/findings.h"

namespace exliar::analyze {

struct Recommendation {
  std::optional<PciAddress> gpu;       ///< the GPU to pass through, if exactly one fits
  std::string reason;                  ///< why this one, or why none
  std::vector<PciAddress> candidates;  ///< GPUs that could be chosen with --gpu
  std::optional<std::string> next;     ///< the command to run next
};

/// Pure over the report and the classified GPUs.
Recommendation recommend(const Report& r, const std::vector<gpu::GpuInfo>& gpus);

nlohmann::ordered_json recommendation_to_json(const Recommendation& rec);

}  // namespace exliar::analyze
