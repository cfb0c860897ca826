// The GPU database verdict in JSON: `detect --json` gpus[].db.
#pragma once

#include <nlohmann/json.hpp>

#include "gpu/classify.h"

namespace exliar::gpu {

nlohmann::ordered_json caps_to_json(const GpuInfo& g);
/// Adds "db" (and "companions") to each element of j["gpus"] whose address is classified.
void augment_detect_json(nlohmann::ordered_json& j, const std::vector<GpuInfo>& gpus);

}  // namespace exliar::gpu
