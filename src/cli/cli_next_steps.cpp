// What `apply` (and every changing command) says after a transaction: reboot or not and
// why, how to verify, how to undo, and where the rescue script is.
#include "cli/cli_plan_view.h"
#include "cli/output.h"
#include "host/paths.h"
#include "plan/next_steps.h"
#include "state/cleanup_script.h"
#include "ui/text.h"

namespace exliar::cli {

std::optional<std::string> refresh_cleanup_script(Context& ctx) {
  auto p = write_cleanup_script(ctx.fs);
  if (!p) {
    // The transaction itself is done and journaled; the script is a convenience.
    say(ctx, "exliar: warning: could not write the cleanup script: " + p.error().describe() +
                 " (`exliar cleanup-script` prints it)");
    return std::nullopt;
  }
  return ctx.fs.display(*p);
}

std::string next_steps_text(const Context& ctx, const Plan& plan, const TxOutcome& r,
                            const std::optional<std::string>& script) {
  using ui::Color;
  using ui::paint;
  bool c = ctx.output.color && ctx.output_file.empty();
  auto a = after_apply(plan);
  std::string t =
      "Applied as transaction " + r.id + ".\n\n" + paint(c, Color::bold, "Next steps") + "\n";
  int n = 0;
  auto item = [&](const std::string& s) { t += "  " + std::to_string(++n) + ". " + s + "\n"; };
  if (!r.pending.empty()) {
    std::string s = "Not run (the root is " + ctx.fs.root() +
                    ", not this system); run inside `chroot " + ctx.fs.root() + "`:";
    for (const auto& p : r.pending) s += "\n       " + p;
    item(s);
  }
  if (a.reboot)
    item(paint(c, Color::yellow, "Reboot: needed") + " (" + a.why + ").");
  else
    item("Reboot: not needed (" + a.why + ").");
  item("Verify" + std::string(a.reboot ? " after the reboot" : "") +
       ": `exliar status` compares the running system with this transaction.");
  item("Undo: `exliar rollback " + r.id + "` restores every file byte for byte" +
       (a.reboot ? " (then reboot again)." : "."));
  if (script)
    item("If the machine no longer boots to a desktop: from a rescue shell run `sh " + *script +
         "` (undoes every exliar change without exliar).");
  return t;
}

nlohmann::ordered_json next_steps_json(const Plan& plan, const TxOutcome& r,
                                       const std::optional<std::string>& script) {
  auto a = after_apply(plan);
  nlohmann::ordered_json j;
  j["reboot_needed"] = a.reboot;
  j["reboot_reason"] = a.why;
  j["verify"] = "exliar status";
  j["undo"] = "exliar rollback " + r.id;
  j["cleanup_script"] = script ? nlohmann::ordered_json(*script) : nlohmann::ordered_json(nullptr);
  return j;
}

}  // namespace exliar::cli
