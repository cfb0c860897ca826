#pragma once

#include <nlohmann/json.hpp>

#include "probe/inventory.h"

namespace exliar {

// The parts of `detect --json`, schema_version 1 (contracts/detect.schema.json): the
// command writes them as one object, member by member (cli/json_stream.h).
nlohmann::ordered_json system_to_json(const System& s);
nlohmann::ordered_json device_to_json(const PciDevice& d);
nlohmann::ordered_json group_to_json(const IommuGroup& g);
nlohmann::ordered_json gpu_to_json(const Gpu& g);
nlohmann::ordered_json note_to_json(const ProbeNote& n);

}  // namespace exliar
