#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "plugin/host.h"
#include "ui/text.h"

namespace exliar::cli {

int run_plugins(Context& ctx) {
  PluginHost host(ctx);
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["schema_version"] = 1;
    j["enabled"] = !ctx.no_plugins && (ctx.fs.is_live() || ctx.run_root_plugins);
    j["plugins"] = nlohmann::ordered_json::array();
    for (const auto& p : host.plugins())
      j["plugins"].push_back({{"path", p.path},
                              {"name", p.name},
                              {"version", p.version},
                              {"abi", p.abi},
                              {"status", to_string(p.status)},
                              {"reason", p.reason}});
    j["hook_scripts"] = nlohmann::ordered_json::array();
    for (const auto& s : host.scripts())
      j["hook_scripts"].push_back({{"hook", s.hook},
                                   {"path", s.path},
                                   {"status", to_string(s.status)},
                                   {"reason", s.reason}});
    return emit_json(ctx, j);
  }
  if (ctx.no_plugins) return emit(ctx, "Plugins and hook scripts are disabled (--no-plugins).\n");
  std::string out;
  if (host.plugins().empty()) {
    out += "No plugins in /usr/lib/exliar/plugins or /etc/exliar/plugins.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : host.plugins())
      rows.push_back({p.name.empty() ? "-" : p.name, p.version.empty() ? "-" : p.version,
                      p.abi ? std::to_string(p.abi) : "-", to_string(p.status), p.path, p.reason});
    out += ui::render_table({"NAME", "VERSION", "ABI", "STATUS", "PATH", "REASON"}, rows);
  }
  out += "\n";
  if (host.scripts().empty()) {
    out += "No hook scripts in /etc/exliar/hooks.d/<hook>/.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : host.scripts())
      rows.push_back({s.hook, to_string(s.status), s.path, s.reason});
    out += ui::render_table({"HOOK", "STATUS", "PATH", "REASON"}, rows);
  }
  return emit(ctx, out);
}

}  // namespace exliar::cli
