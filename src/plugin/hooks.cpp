// Hook scripts: executables run by argv (never a shell) with the event as JSON on stdin
// and EXLIAR_EVENT in the environment, one at a time in name order, with a timeout.
// What a script prints is kept up to kKeepOutput bytes per stream (it goes into the
// journal and into messages); the rest is counted and said to be cut.
#include <fmt/format.h>

#include "plugin/host.h"

namespace exliar {

namespace {

constexpr size_t kKeepOutput = 16 * 1024;
/// How much of a failing script's output goes into the one-line error message.
constexpr size_t kMessageBytes = 2048;

std::string cut_note(size_t dropped) {
  return dropped ? fmt::format("\n[exliar: {} more bytes of output were cut]", dropped) : "";
}

}  // namespace

Status PluginHost::run_scripts(const char* hook, const std::string& json) {
  const bool may_veto = std::string_view(hook) == "on_pre_vfio_bind";
  for (const auto& s : scripts_) {
    if (s.hook != hook) continue;
    if (s.status == LoadStatus::refused) {
      // A refused veto hook fails closed: the user installed it to be able to say no.
      if (may_veto && policy_.refused_hooks_veto)
        return fail(fmt::format(
            "hook script {} of on_pre_vfio_bind was refused ({}); it could veto this bind, so "
            "exliar does not go on without it. Fix its owner and mode, remove it, or pass "
            "--ignore-refused-hooks",
            s.path, s.reason));
      if (refused_warned_.insert(s.path).second)
        warnings_.push_back(fmt::format("hook script {} was not run: {}", s.path, s.reason));
      continue;
    }
    if (s.status != LoadStatus::loaded) continue;
    RunOptions o;
    o.input = json + "\n";
    o.timeout = script_timeout;
    o.max_output = kKeepOutput;
    o.env = {std::string("EXLIAR_EVENT=") + hook, "EXLIAR_ROOT=" + fs_.root()};
    auto r = runner_.run({fs_.display(s.path)}, o);
    if (!r) {
      log_.push_back({hook, s.path, -1, r.error().describe()});
      return fail(fmt::format("hook script {} could not run: {}", fs_.display(s.path),
                              r.error().describe()));
    }
    log_.push_back({hook, s.path, r->exit_code,
                    r->out + cut_note(r->out_dropped) + r->err + cut_note(r->err_dropped)});
    if (r->timed_out)
      return fail(fmt::format("hook script {} timed out after {} s and was killed",
                              fs_.display(s.path), script_timeout.count() / 1000.0));
    if (r->exit_code != 0) {
      bool from_err = !r->err.empty();
      std::string why = from_err ? r->err : r->out;
      size_t dropped = from_err ? r->err_dropped : r->out_dropped;
      if (why.size() > kMessageBytes) {
        dropped += why.size() - kMessageBytes;
        why.resize(kMessageBytes);
      }
      while (!why.empty() && why.back() == '\n') why.pop_back();
      if (dropped) why += fmt::format(" [... {} more bytes cut]", dropped);
      return fail(fmt::format("hook script {} exited with {}{}{}", fs_.display(s.path),
                              r->exit_code, why.empty() ? "" : ": ", why));
    }
  }
  return {};
}

}  // namespace exliar
