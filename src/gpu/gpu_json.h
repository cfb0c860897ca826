// The GPU database verdict in JSON: `detect --json` gpus[].db.
#pragma once

#include <nlohmann/json.hpp>

#include "gpu/classify.h"

namespace exliar::gpu {

nlohmann::ordered_json caps_to_json(const GpuInfo& g);
/// Adds what classification knows ("integrated", "companions", "switch_upstream", "db")
/// to a `detect --json` GPU element (probe/inventory_json.h gpu_to_json) of that GPU.
void augment_gpu_json(nlohmann::ordered_json& jg, const GpuInfo& g);

}  // namespace exliar::gpu
