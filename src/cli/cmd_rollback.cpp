// `exliar rollback [ID]`: undo the last (or given, or interrupted) transaction.
#include "cli/cli_plan_view.h"
#include "cli/output.h"
#include "plan/next_steps.h"
#include "state/journal.h"
#include "state/plugin_hooks.h"

namespace exliar::cli {

int run_rollback(Context& ctx, const RollbackOptions& opts) {
  // Say what will be undone before asking; the engine re-checks everything under the lock.
  std::string what = opts.id.empty() ? "the last transaction" : "transaction " + opts.id;
  if (auto all = load_transactions(ctx.fs); all && opts.id.empty()) {
    for (auto it = all->rbegin(); it != all->rend(); ++it) {
      const auto& tx = it->tx;
      if (tx && tx->state != TxState::rolled_back) {
        what = "transaction " + tx->id + " (" + tx_state_name(tx->state) + ", " +
               tx->plan.intent.command + ")";
        break;
      }
    }
  }
  if (int rc = confirm(ctx, "Roll back " + what + " on " + ctx.fs.root() + "?"); rc != kOk)
    return rc;
  TxOptions o;
  o.force = opts.force;
  auto r = undo_transaction(ctx, opts.id, o);
  if (!r) return report(ctx, r.error());
  for (const auto& w : r->warnings) say(ctx, "exliar: warning: " + w);
  // Plugins may hold state about what was bound (e.g. a VM definition): on_cleanup tells
  // them the transaction is gone.
  bool reboot = false;
  if (auto tx = load_transaction(ctx.fs, r->id)) {
    reboot = after_apply(tx->plan).reboot;
    BindEvent e = bind_event_for(ctx.fs, tx->plan);
    if (!e.devices.empty()) {
      PluginHost plugins(ctx);
      e.transaction_id = r->id;
      plugins.on_cleanup(e);
      for (const auto& w : plugins.take_warnings()) say(ctx, "warning: " + w);
    }
  }
  // The rescue script must not undo what is undone already.
  auto script = refresh_cleanup_script(ctx);
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["transaction"] = r->id;
    j["rolled_back"] = true;
    j["pending"] = r->pending;
    j["unrestored"] = r->unrestored;
    int rc = emit_json(ctx, j);
    return rc == kOk && !r->unrestored.empty() ? kFindings : rc;
  }
  std::string text = "Rolled back transaction " + r->id + ".\n";
  if (!r->unrestored.empty()) {
    text = "Closed transaction " + r->id + " (--force), but these were not restored:\n";
    for (const auto& u : r->unrestored) text += "  " + u + "\n";
    text += "Put them right by hand; the journal directory keeps what was saved.\n";
  }
  if (!r->pending.empty()) {
    text += "Not run (the root is " + ctx.fs.root() + ", not this system); run inside `chroot " +
            ctx.fs.root() + "`:\n";
    for (const auto& p : r->pending) text += "  " + p + "\n";
  }
  if (reboot)
    text += "Reboot: needed, the kernel still runs with the undone boot settings until then.\n";
  text += "Verify: `exliar status` shows what is still applied.\n";
  if (script) text += "The rescue script " + *script + " now undoes only what is left.\n";
  int rc = emit(ctx, text);
  return rc == kOk && !r->unrestored.empty() ? kFindings : rc;
}

}  // namespace exliar::cli
