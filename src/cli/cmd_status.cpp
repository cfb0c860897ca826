// `exliar status`: the transactions, whether each file still holds what exliar wrote (a
// diff when not), and whether the running system reflects the plan. Exit 1 on drift.
#include "cli/commands.h"
#include "cli/output.h"
#include "dynamic/session.h"
#include "host/paths.h"
#include "host/runner.h"
#include "host/text.h"
#include "plan/diff.h"
#include "state/journal.h"
#include "state/status.h"
#include "ui/text.h"

namespace exliar::cli {

namespace {

using ojson = nlohmann::ordered_json;

ojson strings(const std::vector<std::string>& v) {
  ojson a = ojson::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

}  // namespace

int run_status(Context& ctx) {
  using ui::Color;
  using ui::paint;
  auto all = load_transactions(ctx.fs);
  if (!all) {
    error(ctx, all.error().describe());
    return kEnvironment;
  }
  bool color = ctx.output.color && ctx.output_file.empty();
  bool drift = false;
  std::string text;
  ojson list = ojson::array();
  for (const auto& entry : *all) {
    const std::string& id = entry.id;
    if (entry.damaged()) {
      // Its own problem: shown, counted as a finding, and the others are still listed.
      drift = true;
      ojson j;
      j["id"] = id;
      j["state"] = "damaged";
      j["error"] = entry.error.describe();
      text += paint(color, Color::bold, "transaction " + id) + "  " +
              paint(color, Color::red, "damaged") + ": " + entry.error.describe() + "\n";
      list.push_back(j);
      continue;
    }
    const TxInfo* tx = &*entry.tx;
    ojson j;
    j["id"] = id;
    j["state"] = tx_state_name(tx->state);
    j["command"] = tx->plan.intent.command;
    j["time"] = tx->time;
    text += paint(color, Color::bold, "transaction " + id) + "  " + tx->plan.intent.command + "  " +
            tx->time + "  ";
    if (tx->state == TxState::rolled_back) {
      text += "rolled back\n";
      list.push_back(j);
      continue;
    }
    if (tx->interrupted() && ctx.fs.lock_held(paths::kLockFile)) {
      // Another exliar is running it now: not interrupted, and not the user's to roll back.
      j["in_progress"] = true;
      text += paint(color, Color::yellow, "in progress") +
              ": another exliar is running it right now; run `exliar status` again when it "
              "finishes\n";
      list.push_back(j);
      continue;
    }
    if (tx->interrupted()) {
      drift = true;
      text += paint(color, Color::red, tx_state_name(tx->state)) + ": run `exliar rollback " + id +
              "` to restore the files it changed\n";
      list.push_back(j);
      continue;
    }
    text += paint(color, Color::green, "applied") + "\n";
    ojson files = ojson::array();
    for (const auto& f : check_applied_files(ctx.fs, *tx)) {
      ojson fj;
      fj["path"] = f.path;
      fj["matches"] = f.matches;
      files.push_back(fj);
      if (f.matches) {
        text += "  " + paint(color, Color::green, "ok     ") + " " + f.path + "\n";
        continue;
      }
      drift = true;
      text += "  " + paint(color, Color::red, "CHANGED") + " " + f.path +
              " no longer holds what exliar wrote (edited by hand or by a package?):\n";
      std::string d = unified_diff(f.path, f.expected, f.current, {3, color});
      for (const auto& line : split_lines(d)) text += "      " + std::string(line) + "\n";
    }
    j["files"] = files;
    std::vector<std::string> pending;
    for (size_t i = 0; i < tx->plan.steps.size(); ++i)
      if (const auto* r = tx->find("pending", static_cast<int>(i)))
        pending.push_back(shell_quote(r->argv));
    if (!pending.empty()) {
      text += "  commands recorded for a chroot (not run by exliar):\n";
      for (const auto& p : pending) text += "    " + p + "\n";
    }
    j["pending"] = strings(pending);
    auto rt = check_runtime(ctx.fs, tx->plan);
    if (!tx->plan.expect_cmdline.empty() || !tx->plan.expect_vfio.empty()) {
      std::string state = !rt.known     ? "unknown (cannot read the kernel command line)"
                          : rt.active() ? "active"
                                        : "pending reboot";
      text +=
          "  running system: " + paint(color, rt.active() ? Color::green : Color::yellow, state) +
          "\n";
      if (!rt.cmdline_missing.empty())
        text += "    not yet on the kernel command line: " + join(rt.cmdline_missing, " ") + "\n";
      if (!rt.vfio_missing.empty())
        text += "    not yet bound to vfio-pci: " + join(rt.vfio_missing, " ") + "\n";
      j["runtime"] = rt.known ? (rt.active() ? "active" : "pending reboot") : "unknown";
      j["cmdline_missing"] = strings(rt.cmdline_missing);
      j["vfio_missing"] = strings(rt.vfio_missing);
    }
    list.push_back(j);
  }
  if (all->empty()) text += "No transactions: exliar has not changed this system.\n";
  // Dynamic passthrough: GPUs a running VM holds (exliar vm-hook, /run/exliar).
  ojson vms = ojson::array();
  if (auto sessions = dynamic::list_sessions(ctx.fs)) {
    for (const auto& s : *sessions) {
      bool ok = s.state == "prepared";
      drift = drift || !ok;
      text += "GPU " + s.gpu.str() + ": " +
              paint(color, ok ? Color::green : Color::red,
                    ok ? "with VM " + s.vm + " since " + s.since
                       : s.state + " for VM " + s.vm + " (since " + s.since + ")") +
              (ok ? "" : "; run `exliar vm-hook " + s.vm + " release end -`") + "\n";
      vms.push_back({{"vm", s.vm}, {"gpu", s.gpu.str()}, {"state", s.state}, {"since", s.since}});
    }
  } else {
    error(ctx, sessions.error().describe());
    drift = true;
  }
  int rc = drift ? kFindings : kOk;
  if (ctx.output.json) {
    ojson out;
    out["transactions"] = list;
    out["vms"] = vms;
    out["drift"] = drift;
    int e = emit_json(ctx, out);
    return e != kOk ? e : rc;
  }
  int e = emit(ctx, text);
  return e != kOk ? e : rc;
}

}  // namespace exliar::cli
