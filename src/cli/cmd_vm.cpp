// `exliar vm enable NAME --gpu ADDR [--single-gpu]`, `vm disable NAME`, `vm list`: dynamic
// passthrough. enable/disable are journaled transactions (shown first, undone by
// `exliar rollback`); the GPU stays with its host driver until the VM starts.
#include <fmt/format.h>
#include <unistd.h>

#include "cli/cli_plan_view.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "dynamic/session.h"
#include "dynamic/vm_enable.h"
#include "host/paths.h"
#include "host/text.h"
#include "probe/probe.h"
#include "state/transaction.h"

namespace exliar::cli {

namespace {

using namespace exliar::dynamic;

/// The running binary: the dispatcher execs exactly this exliar.
std::string self_exe() {
  char buf[4096];
  std::string p(paths::kProcSelfExe);
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::string(paths::kInstalledExe);
  return std::string(buf, static_cast<size_t>(n));
}

int apply(Context& ctx, const std::string& what, const Plan& plan,
          const std::vector<std::string>& next) {
  std::string text = what + ":\n";
  for (const auto& st : plan.steps)
    if (const auto* e = std::get_if<EditFile>(&st.action))
      text += fmt::format("  {} {}  ({})\n", e->after ? (e->before ? "update" : "write") : "remove",
                          ctx.fs.display(e->path), st.reason);
  for (const auto& w : plan.warnings) text += "  warning: " + w + "\n";
  std::fprintf(ctx.output.err, "%s", text.c_str());
  // The confirmation every changing command shares: --yes, refusal without a terminal
  // (exit 2), "no" (exit 1).
  if (int rc = cli::confirm(ctx, "Proceed?"); rc != kOk) return rc;
  auto tx = run_transaction(ctx, plan);
  if (!tx) {
    error(ctx, tx.error().describe());
    return kApplyFailed;
  }
  say(ctx, fmt::format("done (transaction {}; `exliar rollback {}` undoes it)", tx->id, tx->id));
  for (const auto& n : next) say(ctx, "next: " + n);
  return kOk;
}

int enable(Context& ctx, const VmOptions& o) {
  Inventory inv = probe(ctx.fs);
  EnableRequest r{o.name,           o.gpu,     o.single_gpu, o.hypervisor, o.display_manager,
                  o.unload_modules, self_exe()};
  auto p = plan_vm_enable(ctx.fs, inv, r);
  if (!p) {
    error(ctx, p.error().describe());
    return kUsage;
  }
  return apply(ctx,
               fmt::format("vm enable {}: {} {} ({})", o.name,
                           p->config.single_gpu ? "single-GPU" : "secondary GPU",
                           p->config.gpu.str(), to_string(p->config.hypervisor)),
               p->plan, p->next_steps);
}

int disable(Context& ctx, const VmOptions& o) {
  auto p = plan_vm_disable(ctx.fs, o.name);
  if (!p) {
    error(ctx, p.error().describe());
    return kUsage;
  }
  return apply(ctx, "vm disable " + o.name, *p, {});
}

int list(Context& ctx) {
  auto cfgs = list_vm_configs(ctx.fs);
  if (!cfgs) {
    error(ctx, cfgs.error().describe());
    return kEnvironment;
  }
  auto sessions = list_sessions(ctx.fs);
  if (!sessions) {
    error(ctx, sessions.error().describe());
    return kEnvironment;
  }
  auto session_of = [&](const std::string& n) -> const Session* {
    for (const auto& s : *sessions)
      if (s.vm == n) return &s;
    return nullptr;
  };
  nlohmann::ordered_json vms = nlohmann::ordered_json::array();
  std::string text;
  if (!cfgs->empty())
    text += fmt::format("{:<20} {:<14} {:<11} {:<9} {}\n", "VM", "GPU", "MODE", "HOOK", "STATE");
  for (const auto& c : *cfgs) {
    const Session* s = session_of(c.name);
    bool hook = ctx.fs.exists(dispatcher_path(c.hypervisor));
    std::string state = s ? (s->state == "prepared" ? "GPU with the VM since " + s->since
                                                    : s->state + " (since " + s->since + ")")
                          : "GPU with the host";
    text += fmt::format("{:<20} {:<14} {:<11} {:<9} {}\n", c.name, c.gpu.str(),
                        c.single_gpu ? "single-gpu" : "secondary",
                        hook ? to_string(c.hypervisor) : "MISSING", state);
    nlohmann::ordered_json j;
    j["name"] = c.name;
    j["gpu"] = c.gpu.str();
    j["mode"] = c.single_gpu ? "single-gpu" : "secondary";
    j["hypervisor"] = to_string(c.hypervisor);
    j["hook_installed"] = hook;
    j["state"] = s ? s->state : "host";
    j["since"] = s ? nlohmann::ordered_json(s->since) : nullptr;
    vms.push_back(j);
  }
  if (cfgs->empty()) text = "No VMs are enabled: `exliar vm enable NAME --gpu ADDR` adds one.\n";
  if (ctx.output.json) return emit_json(ctx, {{"schema_version", 1}, {"vms", vms}});
  return emit(ctx, text);
}

}  // namespace

int run_vm(Context& ctx, const VmOptions& o) {
  if (o.action == "enable") return enable(ctx, o);
  if (o.action == "disable") return disable(ctx, o);
  return list(ctx);
}

}  // namespace exliar::cli
