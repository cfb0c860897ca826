#include "cli/cli_plan_view.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/output.h"
#include "host/text.h"
#include "plan/diff.h"
#include "plan/next_steps.h"
#include "plan/plan_check.h"
#include "plan/plan_json.h"
#include "state/plugin_hooks.h"
#include "ui/text.h"

namespace exliar::cli {

namespace {

std::string dquoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '\n')
      out += "\\n";
    else if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out + "\"";
}

std::string describe_intent(const Intent& in) {
  std::string s = in.command.empty() ? "changes" : in.command;
  if (!in.gpu.empty()) s += " --gpu " + in.gpu;
  if (!in.bind_mode.empty()) s += " --bind " + in.bind_mode;
  if (in.acs_override) s += " --acs-override";
  if (in.no_initramfs) s += " --no-initramfs";
  for (const auto& p : in.extra_params) s += " --extra-param " + p;
  for (const auto& p : in.params) s += " " + p;
  return s;
}

}  // namespace

std::string render_plan(const Plan& plan, bool color, bool live) {
  using ui::Color;
  using ui::paint;
  std::string out = paint(color, Color::bold, "Plan: " + describe_intent(plan.intent)) + " (" +
                    std::to_string(plan.steps.size()) + " step" +
                    (plan.steps.size() == 1 ? "" : "s") + ")\n";
  if (auto regen = regenerations(plan); !regen.empty()) {
    out += std::to_string(regen.size()) + " regeneration" + (regen.size() == 1 ? "" : "s") +
           (live ? ", run once each after every file is written: "
                 : ", recorded for a chroot (not run with --root): ");
    for (size_t i = 0; i < regen.size(); ++i) out += (i ? "; " : "") + shell_quote(regen[i]->argv);
    out += "\n";
  }
  for (const auto& w : plan.warnings) out += paint(color, Color::yellow, "warning: " + w) + "\n";
  size_t n = 0;
  for (const auto& s : plan.steps) {
    ++n;
    std::string head = "[" + std::to_string(n) + "/" + std::to_string(plan.steps.size()) + "] ";
    std::string body;
    if (const auto* e = std::get_if<EditFile>(&s.action)) {
      head += !e->before ? "create " : !e->after ? "delete " : "edit ";
      head += e->path;
      // A created file gets the plan's mode (an edited one keeps its own): show it, since a
      // plan read with --from is reviewed here before it runs.
      if (!e->before && e->after)
        head += " (mode " + fmt::format("{:04o}", static_cast<unsigned>(e->mode & 07777)) + ")";
      body = unified_diff(e->path, e->before, e->after, {3, color});
    } else if (const auto* c = std::get_if<RunCommand>(&s.action)) {
      head += "run " + shell_quote(c->argv);
      if (!live)
        head += paint(color, Color::yellow, "  (not run with --root: recorded for a chroot)");
      if (!c->why.empty()) body += "    " + c->why + "\n";
      if (!c->undo_argv.empty()) body += "    on rollback: " + shell_quote(c->undo_argv) + "\n";
    } else if (const auto* w = std::get_if<WriteSysfs>(&s.action)) {
      head += "write " + dquoted(w->value) + " to " + w->path;
      if (w->undo_value)
        body += "    on rollback: write " + dquoted(*w->undo_value) + " to " +
                (w->undo_path ? *w->undo_path : w->path) + "\n";
    }
    out += paint(color, Color::bold, head);
    if (!s.source.empty()) out += paint(color, Color::dim, "  [" + s.source + "]");
    out += "\n";
    if (!s.reason.empty()) out += "    why: " + s.reason + "\n";
    out += body;
  }
  return out;
}

int show_plan(Context& ctx, const Plan& plan) {
  if (ctx.output.json) return emit_json(ctx, plan_to_json(plan));
  std::string text =
      render_plan(plan, ctx.output.color && ctx.output_file.empty(), ctx.fs.is_live());
  if (plan.steps.empty())
    text += "Nothing to do.\n";
  else if (plan_in_effect(ctx.fs, plan))
    text += "Already in effect: `apply` would change nothing.\n";
  return emit(ctx, text);
}

int confirm(Context& ctx, const std::string& question) {
  if (ctx.yes) return kOk;
  if (!ctx.output.stdin_is_tty) {
    error(ctx,
          "refusing to change the system without confirmation: stdin is not a terminal. "
          "Review the plan, then run again with --yes");
    return kUsage;
  }
  std::fprintf(ctx.output.err, "%s [y/N] ", question.c_str());
  std::fflush(ctx.output.err);
  std::string answer;
  if (!std::getline(std::cin, answer)) answer.clear();
  auto a = to_lower(trim(answer));
  if (a == "y" || a == "yes") return kOk;
  // Declining is the user's choice, not a failure of exliar: exit 1 in every command.
  error(ctx, "declined: nothing was changed");
  return kFindings;
}

int report(Context& ctx, const TxError& e) {
  error(ctx, e.error.describe());
  return e.exit_code;
}

int confirm_and_run(Context& ctx, const Plan& plan) {
  // An interrupted transaction comes first: its half-written files may make the plan look
  // already in effect. Both are seen under the lock (released before the question, so a
  // user reading the plan blocks nobody; apply_plan takes it again and looks again).
  auto in_effect = plan_in_effect_locked(ctx.fs, plan);
  if (!in_effect) return report(ctx, in_effect.error());
  if (*in_effect) {
    if (ctx.output.json) {
      nlohmann::ordered_json j;
      j["transaction"] = nullptr;
      j["changed"] = false;
      j["pending"] = nlohmann::ordered_json::array();
      return emit_json(ctx, j);
    }
    say(ctx, "Nothing to do: the plan is already in effect, nothing was changed.");
    return kOk;
  }
  // -q: only errors on stderr (with --yes nothing is asked, so nothing needs showing).
  if (!ctx.output.json && (ctx.output.verbosity != Verbosity::quiet || !ctx.yes)) {
    std::string text = render_plan(plan, ctx.output.color, ctx.fs.is_live());
    std::fwrite(text.data(), 1, text.size(), ctx.output.err);
  }
  if (int rc = confirm(ctx, "Apply these " + std::to_string(plan.steps.size()) + " steps to " +
                                ctx.fs.root() + "?");
      rc != kOk)
    return rc;
  return run_confirmed(ctx, plan);
}

int run_confirmed(Context& ctx, const Plan& plan) {
  PluginHost plugins(ctx);
  TxOptions opts;
  attach_plugin_hooks(ctx, plan, plugins, opts);
  auto r = apply_plan(ctx, plan, opts);
  if (!r) return report(ctx, r.error());
  for (const auto& w : r->warnings) say(ctx, "exliar: warning: " + w);
  auto script = r->changed ? refresh_cleanup_script(ctx) : std::nullopt;
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["transaction"] =
        r->id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r->id);
    j["changed"] = r->changed;
    j["pending"] = r->pending;
    if (r->changed) j["next"] = next_steps_json(plan, *r, script);
    return emit_json(ctx, j);
  }
  if (!r->changed) {
    say(ctx, "Nothing to do: the plan is already in effect, nothing was changed.");
    return kOk;
  }
  return emit(ctx, next_steps_text(ctx, plan, *r, script));
}

Result<Plan> plan_for(Context& ctx, const PlanOptions& opts) {
  if (opts.from.empty()) return build_plan(ctx, opts);
  // --from names a file on the machine running exliar, like -o.
  auto host = RealFs::open("/");
  if (!host) return tl::unexpected(host.error());
  std::string p = opts.from;
  if (p.front() != '/') {
    char buf[4096];
    if (::getcwd(buf, sizeof buf)) p = std::string(buf) + "/" + p;
  }
  // A plan file is untrusted input: as for plugins, only one nobody else could have written,
  // holding only steps exliar's planner could have made.
  if (auto t = check_plan_file(*host, p, ::geteuid()); !t) return tl::unexpected(t.error());
  auto text = host->read_file(p);
  if (!text) return tl::unexpected(text.error());
  auto plan = parse_plan(*text, opts.from);
  if (!plan) return plan;
  if (auto c = check_plan_targets(*plan, opts.from); !c) return tl::unexpected(c.error());
  return plan;
}

}  // namespace exliar::cli
