#pragma once

#include <nlohmann/json.hpp>

#include "probe/inventory.h"

namespace exliar {

/// `detect --json`, schema_version 1 (contracts/detect.schema.json).
nlohmann::ordered_json inventory_to_json(const Inventory& inv);
nlohmann::ordered_json device_to_json(const PciDevice& d);
nlohmann::ordered_json gpu_to_json(const Gpu& g);

}  // namespace exliar
