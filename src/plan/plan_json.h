// Plan <-> JSON: what `plan --json` prints, what `apply --from FILE` reads and what the
// journal stores as plan.json. File contents that are not valid UTF-8 are stored as
// {"base64": "..."} so that every byte survives the round trip.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "host/error.h"
#include "plan/plan.h"

namespace exliar {

inline constexpr int kPlanSchemaVersion = 1;

nlohmann::ordered_json plan_to_json(const Plan& plan);
/// Fails with a message naming the offending field; `where` names the source (a file).
Result<Plan> plan_from_json(const nlohmann::json& j, const std::string& where = {});
/// Parses text; a syntax error names the line.
Result<Plan> parse_plan(std::string_view text, const std::string& where = {});

nlohmann::ordered_json step_to_json(const Step& step);
nlohmann::ordered_json intent_to_json(const Intent& intent);

/// A string as JSON: itself when valid UTF-8, else {"base64": ...}.
nlohmann::ordered_json bytes_to_json(std::string_view bytes);
Result<std::string> bytes_from_json(const nlohmann::json& j, const std::string& field);

std::string base64_encode(std::string_view in);
/// nullopt-like failure as Result: rejects characters outside the alphabet.
Result<std::string> base64_decode(std::string_view in);
bool valid_utf8(std::string_view s);

}  // namespace exliar
