// `exliar boot show|add|remove`: the kernel command line of each boot entry, and
// transactional edits of it for users who only want that part.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "boot/backend.h"
#include "cli/cli_plan_view.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "host/paths.h"
#include "host/runner.h"
#include "host/text.h"
#include "plan/plan.h"
#include "probe/system.h"

namespace exliar::cli {

namespace {

using boot::BootEntryView;

bool has(const std::vector<std::string>& words, const std::string& w) {
  auto n = boot::normalize_token(w);
  return std::any_of(words.begin(), words.end(),
                     [&](const auto& x) { return boot::normalize_token(x) == n; });
}

/// Parameters the boot loader or kernel adds by itself, not found in the configuration.
bool loader_param(const BootEntryView& e, const std::string& w) {
  std::string key = boot::normalize_key(std::string_view(w).substr(0, w.find('=')));
  if (key == "BOOT_IMAGE" || key == "initrd") return true;
  return e.loader_adds && (key == "root" || key == "ro" || key == "rw");
}

struct Diff {
  std::vector<std::string> not_running, not_configured;
};

Diff diff_entry(const BootEntryView& e, const std::vector<std::string>& running) {
  Diff d;
  for (const auto& w : e.params)
    if (!has(running, w)) d.not_running.push_back(w);
  for (const auto& w : running)
    if (!has(e.params, w) && !loader_param(e, w)) d.not_configured.push_back(w);
  return d;
}

int show(Context& ctx, const boot::BootBackend& be, const System& sys) {
  auto cfg = be.read(ctx.fs);
  if (!cfg) {
    error(ctx, cfg.error().describe());
    return kEnvironment;
  }
  std::vector<std::string> running;
  if (sys.cmdline) running = boot::kernel_words(*sys.cmdline);
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["schema_version"] = 1;
    j["backend"] = cfg->backend;
    j["evidence"] = sys.bootloader_evidence;
    j["running"] = sys.cmdline ? nlohmann::ordered_json(running) : nlohmann::ordered_json(nullptr);
    j["entries"] = nlohmann::ordered_json::array();
    for (const auto& e : cfg->entries) {
      nlohmann::ordered_json je;
      je["name"] = e.name;
      je["params"] = e.params;
      je["origins"] = nlohmann::ordered_json::array();
      for (const auto& o : e.origins)
        je["origins"].push_back({{"path", o.path}, {"line", o.line}, {"what", o.what}});
      je["loader_adds_params"] = e.loader_adds;
      je["for_new_kernels_only"] = e.template_only;
      if (sys.cmdline) {
        auto d = diff_entry(e, running);
        je["not_running"] = d.not_running;
        je["not_configured"] = d.not_configured;
      }
      j["entries"].push_back(std::move(je));
    }
    j["notes"] = cfg->notes;
    return emit_json(ctx, j);
  }
  std::string out =
      fmt::format("boot loader: {}{}\n", cfg->backend,
                  sys.bootloader_evidence.empty() ? "" : " (from " + sys.bootloader_evidence + ")");
  out +=
      fmt::format("running kernel: {}\n", sys.cmdline ? join(running, " ") : "(no /proc/cmdline)");
  for (const auto& e : cfg->entries) {
    out += fmt::format("\n{}\n  {}\n", e.name, e.params.empty() ? "(empty)" : join(e.params, " "));
    for (const auto& o : e.origins)
      out += fmt::format("  from {}{} ({})\n", o.path, o.line ? fmt::format(":{}", o.line) : "",
                         o.what);
    if (e.loader_adds) out += "  the boot loader adds root=, ro and BOOT_IMAGE= itself\n";
    if (!sys.cmdline) continue;
    auto d = diff_entry(e, running);
    if (!d.not_running.empty())
      out += "  not in the running kernel: " + join(d.not_running, " ") + "\n";
    if (!d.not_configured.empty() && !e.template_only)
      out += "  running but not configured here: " + join(d.not_configured, " ") + "\n";
  }
  for (const auto& n : cfg->notes) out += "note: " + n + "\n";
  return emit(ctx, out);
}

/// Changed lines of an edit, as "-old" / "+new" pairs.
int change(Context& ctx, const boot::BootBackend& be, const BootOptions& opts) {
  std::vector<boot::ParamEdit> edits;
  for (const auto& p : opts.params) {
    if (auto st = boot::check_param(p); !st) {
      error(ctx, st.error().message);
      return kUsage;
    }
    edits.push_back(
        {opts.action == "add" ? boot::ParamEdit::Op::add : boot::ParamEdit::Op::remove, p});
  }
  auto bp = be.plan(ctx.fs, edits);
  if (!bp) {
    error(ctx, bp.error().describe());
    return kEnvironment;
  }
  Plan plan;
  plan.intent.command = "boot " + opts.action;
  plan.intent.params = opts.params;
  plan.steps = bp->steps;
  plan.warnings = bp->warnings;
  if (plan.steps.empty()) {
    say(ctx, fmt::format("nothing to do: the {} configuration already {} {}", be.name(),
                         opts.action == "add" ? "has" : "does not have", join(opts.params, " ")));
    return kOk;
  }
  // The same door as apply: show the plan, ask, run it as a journaled transaction.
  return confirm_and_run(ctx, plan);
}

}  // namespace

int run_boot(Context& ctx, const BootOptions& opts) {
  std::vector<ProbeNote> notes;
  System sys = probe_system(ctx.fs, notes);
  auto be = boot::select_backend(ctx.fs, sys);
  if (!be) {
    error(ctx, be.error().describe());
    return kEnvironment;
  }
  if (opts.action == "show") return show(ctx, **be, sys);
  return change(ctx, **be, opts);
}

}  // namespace exliar::cli
