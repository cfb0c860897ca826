// apply: preflight (nothing changed), journal, steps, commit; on failure, undo.
#include "state/transaction.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "host/paths.h"
#include "host/text.h"
#include "plan/next_steps.h"
#include "plan/plan_json.h"
#include "state/engine.h"
#include "state/hash.h"
#include "state/plugin_hooks.h"

namespace exliar {

namespace detail {

TxResult<void> check_privileges(const Fs& fs, const TxOptions& opts) {
  int euid = opts.euid >= 0 ? opts.euid : static_cast<int>(::geteuid());
  if (fs.is_live() && euid != 0)
    return tl::unexpected(TxError{
        Error{"changing the running system needs root: run exliar with sudo (or work on a copy "
              "with --root DIR)"},
        3});
  return {};
}

TxResult<FileLock> take_lock(Fs& fs) {
  if (auto d = fs.make_dirs(paths::kStateDir, 0755); !d) {
    Error e = d.error();
    e.message = "cannot create exliar's state directory, nothing was changed: " + e.message;
    return tl::unexpected(TxError{e, 3});
  }
  auto l = fs.lock_exclusive(paths::kLockFile);
  if (!l) {
    Error e = l.error();
    if (e.err == EWOULDBLOCK) {
      e.message =
          "lock held: another exliar is changing this system right now; wait for it to "
          "finish and try again";
      e.err = 0;
    }
    return tl::unexpected(TxError{e, 3});
  }
  return std::move(*l);
}

// Progress is for a person watching: none with -q, none when stderr is not a terminal
// (logs and pipes get the result and the errors only).
void progress(const Context& ctx, const std::string& msg) {
  if (ctx.output.verbosity == Verbosity::quiet || !ctx.output.err || !ctx.output.err_is_tty) return;
  std::fprintf(ctx.output.err, "%s\n", msg.c_str());
}

}  // namespace detail

namespace {

using detail::progress;

struct Preflight {
  bool in_effect = false;
  bool exists = false;
  FileStat st;
  std::string content;
};

TxError env(Error e) { return TxError{std::move(e), 3}; }

std::string step_label(const Plan& plan, size_t i) {
  const Step& s = plan.steps[i];
  std::string what;
  if (const auto* e = std::get_if<EditFile>(&s.action)) what = e->path;
  if (const auto* c = std::get_if<RunCommand>(&s.action)) what = shell_quote(c->argv);
  if (const auto* w = std::get_if<WriteSysfs>(&s.action)) what = w->path;
  return "step " + std::to_string(i + 1) + " of " + std::to_string(plan.steps.size()) + " (" +
         what + ")";
}

/// Refuses while a transaction is interrupted, or damaged and possibly interrupted; a
/// damaged one known closed (a newer one loaded and is closed) is only a warning.
TxResult<void> refuse_interrupted(const Fs& fs, std::vector<std::string>* warnings = nullptr) {
  auto all = load_transactions(fs);
  if (!all) return tl::unexpected(env(all.error()));
  for (size_t i = 0; i < all->size(); ++i) {
    const TxEntry& e = (*all)[i];
    if (e.damaged()) {
      std::string newer = closed_after(*all, i);
      if (!newer.empty()) {
        if (warnings)
          warnings->push_back("transaction " + e.id + " is damaged (" + e.error.describe() +
                              "); ignored: it was closed before transaction " + newer + " began");
        continue;
      }
      return tl::unexpected(env(
          Error{"transaction " + e.id +
                " is damaged, so exliar cannot tell whether it was "
                "interrupted: " +
                e.error.describe() +
                ". Repair that file (the backup-N files beside it hold the originals), or check "
                "by hand that the files it changed are as you want them and move " +
                fs.display(transaction_dir(e.id)) + " out of the way; then try again"}));
    }
    const TxInfo& tx = *e.tx;
    if (tx.interrupted())
      return tl::unexpected(
          env(Error{"transaction " + e.id + " was interrupted (" + tx_state_name(tx.state) +
                        "); run `exliar rollback " + e.id +
                        "` to restore the files it changed, then try again",
                    fs.display(tx.dir)}));
  }
  return {};
}

/// Reads what every step would touch; refuses (changing nothing) when the system is not
/// what the plan was made from.
TxResult<std::vector<Preflight>> preflight(const Fs& fs, const Plan& plan) {
  std::vector<Preflight> out(plan.steps.size());
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Preflight& p = out[i];
    // The journal stores the plan as JSON text: names must survive it unchanged.
    bool text_ok = true;
    if (const auto* e = std::get_if<EditFile>(&plan.steps[i].action)) text_ok = valid_utf8(e->path);
    if (const auto* w = std::get_if<WriteSysfs>(&plan.steps[i].action))
      text_ok = valid_utf8(w->path);
    if (const auto* c = std::get_if<RunCommand>(&plan.steps[i].action))
      for (const auto& a : c->argv) text_ok = text_ok && valid_utf8(a);
    if (!text_ok)
      return tl::unexpected(
          env(Error{"step " + std::to_string(i + 1) +
                    " names a path or argument that is not valid UTF-8; refused"}));
    if (const auto* e = std::get_if<EditFile>(&plan.steps[i].action)) {
      auto st = fs.stat(e->path, false);
      if (!st && st.error().err != ENOENT) return tl::unexpected(env(st.error()));
      p.exists = st.has_value();
      if (p.exists) {
        p.st = *st;
        if (st->type != FileStat::Type::regular)
          return tl::unexpected(
              env(Error{"is not a regular file (a symlink or directory); exliar "
                        "only edits regular files and will not replace it",
                        fs.display(e->path)}));
        auto c = fs.read_file(e->path);
        if (!c) return tl::unexpected(env(c.error()));
        p.content = std::move(*c);
      }
      p.in_effect = e->after ? (p.exists && p.content == *e->after) : !p.exists;
      if (p.in_effect) continue;
      bool matches = e->before ? (p.exists && p.content == *e->before) : !p.exists;
      if (!matches)
        return tl::unexpected(env(Error{
            std::string(p.exists ? (e->before ? "changed" : "was created") : "was removed") +
                " since the plan was made; run `exliar plan` again to see the current changes",
            fs.display(e->path)}));
    } else if (const auto* w = std::get_if<WriteSysfs>(&plan.steps[i].action)) {
      auto cur = fs.read_file(w->path);
      p.in_effect = cur && trim(*cur) == trim(w->value);
    }
  }
  return out;
}

/// Missing ancestors of p, outermost first.
std::vector<std::string> missing_dirs(const Fs& fs, const std::string& p) {
  std::vector<std::string> dirs;
  std::string d(path_dirname(p));
  while (d != "/" && !fs.exists(d)) {
    dirs.insert(dirs.begin(), d);
    d = std::string(path_dirname(d));
  }
  return dirs;
}

/// A filesystem that cannot hold this link (not a failure of the disk).
bool cannot_link_here(int err) {
  return err == EXDEV || err == ENOTSUP || err == EOPNOTSUPP || err == EPERM || err == EMLINK;
}

JournalRecord rec(std::string kind, int step) {
  JournalRecord r;
  r.rec = std::move(kind);
  r.step = step;
  return r;
}

#define TRY_STATUS(expr)                        \
  do {                                          \
    auto s_ = (expr);                           \
    if (!s_) return tl::unexpected(s_.error()); \
  } while (0)

Status run_edit(Context& ctx, Journal& j, const std::string& tx_id, const EditFile& e, int i,
                const Preflight& p) {
  Fs& fs = ctx.fs;
  if (p.exists) {
    std::string file = "backup-" + std::to_string(i);
    TRY_STATUS(j.write_file(file, p.content));
    JournalRecord b = rec("backup", i);
    b.path = e.path;
    b.sha256 = sha256_hex(p.content);
    b.mode = p.st.mode;
    b.uid = p.st.uid;
    b.gid = p.st.gid;
    b.file = file;
    TRY_STATUS(j.append(b));
    // The original inode itself, kept under a second name in the journal: rollback puts it
    // back, so hard links, extended attributes and labels come back with the content. Where
    // no link can be made (another filesystem), rollback restores the content copy.
    std::string kept = path_join(j.dir(), original_name(i));
    if (auto l = fs.hard_link(e.path, kept)) {
      TRY_STATUS(j.append(rec("original", i)));
    } else if (!cannot_link_here(l.error().err)) {
      return l;
    }
  } else {
    JournalRecord a = rec("absent", i);
    a.path = e.path;
    TRY_STATUS(j.append(a));
    auto dirs = missing_dirs(fs, e.path);
    if (!dirs.empty()) {
      JournalRecord m = rec("mkdir", i);
      m.dirs = dirs;
      TRY_STATUS(j.append(m));
      auto made = fs.make_dirs(path_dirname(e.path), 0755);
      if (!made) return tl::unexpected(made.error());
    }
  }
  if (e.after) {
    TRY_STATUS(fs.write_atomic_via(e.path, *e.after, p.exists ? p.st.mode : e.mode,
                                   step_temp_name(tx_id, e.path)));
    if (p.exists) {
      // The new inode belongs to whoever wrote it; give it back to the original owner.
      auto st = fs.stat(e.path, false);
      if (!st) return tl::unexpected(st.error());
      if (st->uid != p.st.uid || st->gid != p.st.gid)
        TRY_STATUS(fs.chown(e.path, p.st.uid, p.st.gid));
    }
  } else {
    TRY_STATUS(fs.remove(e.path));
  }
  JournalRecord d = rec("done", i);
  d.sha256 = e.after ? sha256_hex(*e.after) : "";
  return j.append(d);
}

Status run_command(Context& ctx, Journal& j, const RunCommand& c, int i, TxOutcome& out) {
  if (!ctx.fs.is_live()) {
    // Never execute on the host what was meant for another root.
    JournalRecord p = rec("pending", i);
    p.argv = c.argv;
    TRY_STATUS(j.append(p));
    out.pending.push_back(shell_quote(c.argv));
  } else {
    auto t0 = std::chrono::steady_clock::now();
    auto r = ctx.runner.run(c.argv);
    if (!r) return tl::unexpected(r.error());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The tool's own output, indented under its step.
    for (const auto* text : {&r->out, &r->err})
      for (auto line : split_lines(*text))
        if (!trim(line).empty()) progress(ctx, "      " + std::string(line));
    progress(ctx,
             fmt::format("      {} after {:.1f} s", r->exit_code == 0 ? "done" : "failed", secs));
    JournalRecord ran = rec("ran", i);
    ran.exit = r->exit_code;
    TRY_STATUS(j.append(ran));
    if (r->exit_code != 0) {
      std::string tail = r->err.size() > 2000 ? r->err.substr(r->err.size() - 2000) : r->err;
      return fail("`" + shell_quote(c.argv) + "` exited with status " +
                  std::to_string(r->exit_code) +
                  (tail.empty() ? std::string() : ": " + std::string(trim(tail))));
    }
  }
  return j.append(rec("done", i));
}

Status run_sysfs(Context& ctx, Journal& j, const WriteSysfs& w, int i) {
  JournalRecord s = rec("sysfs", i);
  s.path = w.path;
  s.undo_path = w.undo_path;
  s.undo_value = w.undo_value;
  TRY_STATUS(j.append(s));
  if (auto wr = ctx.fs.write_in_place(w.path, w.value); !wr) {
    // Recorded so rollback does not undo a write that never happened; if even this record
    // cannot be written, rollback undoes it (the safe guess).
    (void)j.append(rec("unwritten", i));
    return wr;
  }
  return j.append(rec("done", i));
}

}  // namespace

TxResult<TxOutcome> apply_plan(Context& ctx, const Plan& plan, const TxOptions& opts) {
  Fs& fs = ctx.fs;
  if (auto p = detail::check_privileges(fs, opts); !p) return tl::unexpected(p.error());
  auto lock = detail::take_lock(fs);
  if (!lock) return tl::unexpected(lock.error());
  TxOutcome out;
  if (auto r = refuse_interrupted(fs, &out.warnings); !r) return tl::unexpected(r.error());
  auto pre = preflight(fs, plan);
  if (!pre) return tl::unexpected(pre.error());

  bool any_change = false, any_state_step = false;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (std::holds_alternative<RunCommand>(plan.steps[i].action)) continue;
    any_state_step = true;
    any_change = any_change || !(*pre)[i].in_effect;
  }
  if (plan.steps.empty() || (any_state_step && !any_change)) return out;  // already in effect

  // Every directory counts for the next id, even one abandoned before its log existed.
  auto ids = fs.exists(paths::kTransactionsDir) ? fs.list_dir(paths::kTransactionsDir)
                                                : Result<std::vector<std::string>>();
  if (!ids) return tl::unexpected(env(ids.error()));
  out.id = next_transaction_id(*ids);
  out.changed = true;
  std::string dir = transaction_dir(out.id);
  Journal j(fs, dir, {}, opts.after_record);
  auto abandon = [&](Error e) {
    // Nothing outside the journal was touched yet: remove the partial journal.
    for (const char* f : {"log", "plan.json"}) (void)fs.remove(path_join(dir, f));
    (void)fs.remove(dir);
    e.message = "cannot start the journal, nothing was changed: " + e.message;
    return tl::unexpected(env(std::move(e)));
  };
  if (auto d = fs.make_dirs(dir, 0700); !d) return abandon(d.error());
  if (auto w = j.write_file(
          "plan.json",
          plan_to_json(plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !w)
    return abandon(w.error());
  JournalRecord begin = rec("begin", -1);
  begin.time = utc_now();
  begin.live = fs.is_live();
  begin.steps = static_cast<int>(plan.steps.size());
  if (auto a = j.append(begin); !a) return abandon(a.error());

  Status ok;
  size_t failed_at = 0;
  bool hook_ran = false, vetoed = false;
  auto run_hook = [&](int si) -> Status {
    failed_at = si < 0 ? plan.steps.size() : static_cast<size_t>(si);
    hook_ran = true;
    if (!opts.before_binding) return {};
    if (auto a = j.append(rec("hook", si)); !a) return a;
    if (auto h = opts.before_binding(out.id); !h) {
      vetoed = true;
      Error e = h.error();
      e.message = "vetoed: " + e.message;
      return tl::unexpected(e);
    }
    return {};
  };
  for (size_t i = 0; i < plan.steps.size() && ok; ++i) {
    int si = static_cast<int>(i);
    const Step& s = plan.steps[i];
    std::string count = fmt::format("[{}/{}] ", i + 1, plan.steps.size());
    if (!hook_ran && !std::holds_alternative<EditFile>(s.action) && !(ok = run_hook(si))) break;
    if ((*pre)[i].in_effect) {
      progress(ctx, count + step_label(s) + " (already in effect)");
      ok = j.append(rec("skip", si));
    } else {
      progress(ctx, count + step_label(s) +
                        (std::holds_alternative<RunCommand>(s.action) && !fs.is_live()
                             ? " (recorded for a chroot, not run)"
                         : std::holds_alternative<RunCommand>(s.action) ? " (this can take minutes)"
                                                                        : ""));
      ok = j.append(rec("start", si));
      if (!ok) {
      } else if (const auto* e = std::get_if<EditFile>(&s.action)) {
        ok = run_edit(ctx, j, out.id, *e, si, (*pre)[i]);
      } else if (const auto* c = std::get_if<RunCommand>(&s.action)) {
        ok = run_command(ctx, j, *c, si, out);
      } else if (const auto* w = std::get_if<WriteSysfs>(&s.action)) {
        ok = run_sysfs(ctx, j, *w, si);
      }
    }
    failed_at = i;
  }
  if (ok && !hook_ran) {
    failed_at = plan.steps.size();
    ok = run_hook(-1);
  }
  if (ok) {
    JournalRecord c = rec("commit", -1);
    c.time = utc_now();
    ok = j.append(c);
    failed_at = plan.steps.size();
  }
  if (ok) {
    if (opts.after_commit) opts.after_commit(out.id);
    return out;
  }

  // A step failed: undo everything done so far, as recorded in the journal.
  std::string what = vetoed                          ? "the on_pre_vfio_bind hook"
                     : failed_at < plan.steps.size() ? step_label(plan, failed_at)
                                                     : "the commit";
  Error cause = ok.error();
  JournalRecord f = rec("failed", failed_at < plan.steps.size() ? static_cast<int>(failed_at) : -1);
  f.error = cause.describe();
  (void)j.append(f);
  TxInfo tx;
  tx.id = out.id;
  tx.dir = dir;
  tx.plan = plan;
  auto recs = parse_log(j.text(), fs.display(path_join(dir, "log")));
  if (recs) tx.records = std::move(*recs);
  auto undone = recs ? detail::undo_records(ctx, tx, j, "automatic: " + what + " failed", false)
                     : TxResult<detail::UndoResult>(tl::unexpected(TxError{recs.error(), 3}));
  if (!undone)
    return tl::unexpected(TxError{
        Error{what + " failed: " + cause.describe() +
              "; the automatic rollback did not finish: " + undone.error().error.describe() +
              ". Fix the cause and run `exliar rollback " + out.id + "`"},
        4});
  std::string msg = what + " failed: " + cause.describe() +
                    ". Every change was undone (transaction " + out.id + " rolled back)";
  for (const auto& n : undone->notes) msg += "; " + n;
  if (!undone->pending.empty())
    msg += "; run in a chroot of " + fs.root() + ": " + join(undone->pending, " && ");
  return tl::unexpected(TxError{Error{msg}, 4});
}

TxResult<void> check_interrupted(const Fs& fs) { return refuse_interrupted(fs); }

TxResult<bool> plan_in_effect_locked(Fs& fs, const Plan& plan, const TxOptions& opts) {
  if (auto p = detail::check_privileges(fs, opts); !p) return tl::unexpected(p.error());
  auto lock = detail::take_lock(fs);
  if (!lock) return tl::unexpected(lock.error());
  if (auto r = refuse_interrupted(fs); !r) return tl::unexpected(r.error());
  return plan.steps.empty() || plan_in_effect(fs, plan);
}

bool plan_in_effect(const Fs& fs, const Plan& plan) {
  auto pre = preflight(fs, plan);
  if (!pre) return false;
  bool any_state_step = false;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (std::holds_alternative<RunCommand>(plan.steps[i].action)) continue;
    any_state_step = true;
    if (!(*pre)[i].in_effect) return false;
  }
  return any_state_step || plan.steps.empty();
}

Result<TxOutcome> run_transaction(Context& ctx, const Plan& plan) {
  PluginHost host(ctx);
  TxOptions opts;
  attach_plugin_hooks(ctx, plan, host, opts);
  auto r = apply_plan(ctx, plan, opts);
  if (!r) return tl::unexpected(r.error().error);
  return *r;
}

}  // namespace exliar
