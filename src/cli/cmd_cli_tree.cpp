// `exliar __cli-tree` (hidden): the CLI11 definitions as one JSON document, so the man page
// and the shell completions are generated from what the parser accepts (scripts/gen-cli-docs.py)
// and cannot drift from it. Options other engineers add appear in both without edits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace exliar::cli {
namespace {

nlohmann::json option_json(const CLI::Option* o) {
  nlohmann::json j;
  j["long"] = o->get_lnames();
  j["short"] = o->get_snames();
  j["positional"] = o->get_positional();
  if (o->get_positional()) j["name"] = o->get_name(true);
  j["description"] = o->get_description();
  j["required"] = o->get_required();
  // A flag takes no value; everything else names its value (type_name, plus the choices
  // an IsMember check adds as "TEXT:{a,b,c}").
  j["flag"] = !o->get_positional() && o->get_items_expected_max() == 0;
  j["type"] = o->get_type_name();
  j["repeatable"] = o->get_expected_max() > 1 || o->get_items_expected_max() > 1;
  return j;
}

nlohmann::json app_json(CLI::App* app) {
  nlohmann::json j;
  j["name"] = app->get_name();
  j["description"] = app->get_description();
  j["options"] = nlohmann::json::array();
  for (const CLI::Option* o : app->get_options()) {
    if (o->get_lnames().empty() && o->get_snames().empty() && !o->get_positional()) continue;
    j["options"].push_back(option_json(o));
  }
  j["commands"] = nlohmann::json::array();
  for (CLI::App* s : app->get_subcommands([](CLI::App*) { return true; })) {
    if (s->get_group().empty()) continue;  // hidden, like this command itself
    j["commands"].push_back(app_json(s));
  }
  return j;
}

}  // namespace

int run_cli_tree(CLI::App& app, const std::string& version) {
  nlohmann::json j = app_json(&app);
  j["name"] = "exliar";
  j["version"] = version;
  std::printf("%s\n", j.dump(2).c_str());
  return kOk;
}

}  // namespace exliar::cli
