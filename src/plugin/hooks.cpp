// Hook scripts: executables run by argv (never a shell) with the event as JSON on stdin
// and EXLIAR_EVENT in the environment, one at a time in name order, with a timeout.
#include <fmt/format.h>

#include "plugin/host.h"

namespace exliar {

Status PluginHost::run_scripts(const char* hook, const std::string& json) {
  for (const auto& s : scripts_) {
    if (s.hook != hook || s.status != LoadStatus::loaded) continue;
    RunOptions o;
    o.input = json + "\n";
    o.timeout = script_timeout;
    o.env = {std::string("EXLIAR_EVENT=") + hook, "EXLIAR_ROOT=" + fs_.root()};
    auto r = runner_.run({fs_.display(s.path)}, o);
    if (!r) {
      log_.push_back({hook, s.path, -1, r.error().describe()});
      return fail(fmt::format("hook script {} could not run: {}", fs_.display(s.path),
                              r.error().describe()));
    }
    log_.push_back({hook, s.path, r->exit_code, r->out + r->err});
    if (r->timed_out)
      return fail(fmt::format("hook script {} timed out after {} s and was killed",
                              fs_.display(s.path), script_timeout.count() / 1000.0));
    if (r->exit_code != 0) {
      std::string why = r->err.empty() ? r->out : r->err;
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return fail(fmt::format("hook script {} exited with {}{}{}", fs_.display(s.path),
                              r->exit_code, why.empty() ? "" : ": ", why));
    }
  }
  return {};
}

}  // namespace exliar
