// `exliar rollback [ID]`: choose the transaction, check it may be undone, undo it.
#include <set>

#include "host/text.h"
#include "state/engine.h"

namespace exliar {

namespace {

TxError err(std::string msg, int code, std::string path = {}) {
  return TxError{Error{std::move(msg), std::move(path)}, code};
}

std::set<std::string> edited_paths(const TxInfo& tx) {
  std::set<std::string> out;
  for (size_t i = 0; i < tx.plan.steps.size(); ++i)
    if (const auto* e = std::get_if<EditFile>(&tx.plan.steps[i].action))
      if (tx.find("backup", static_cast<int>(i)) || tx.find("absent", static_cast<int>(i)))
        out.insert(e->path);
  return out;
}

}  // namespace

TxResult<TxOutcome> undo_transaction(Context& ctx, const std::string& id, const TxOptions& opts) {
  Fs& fs = ctx.fs;
  if (auto p = detail::check_privileges(fs, opts); !p) return tl::unexpected(p.error());
  auto lock = detail::take_lock(fs);
  if (!lock) return tl::unexpected(lock.error());
  auto loaded = load_transactions(fs);
  if (!loaded) return tl::unexpected(TxError{loaded.error(), 3});
  const std::vector<TxEntry>& all = *loaded;

  // A damaged transaction is its own problem: only the one being rolled back, or a newer
  // one (it may have changed the same files), stands in the way.
  const TxEntry* target = nullptr;
  if (id.empty()) {
    for (auto it = all.rbegin(); it != all.rend() && !target; ++it)
      if (it->tx && it->tx->interrupted()) target = &*it;
    for (auto it = all.rbegin(); it != all.rend() && !target; ++it)
      if (it->tx && it->tx->state == TxState::committed) target = &*it;
    if (!target) {
      for (auto it = all.rbegin(); it != all.rend(); ++it)
        if (it->damaged())
          return tl::unexpected(err("nothing to roll back that exliar can read: transaction " +
                                        it->id + " is damaged: " + it->error.describe(),
                                    3));
      return tl::unexpected(err("nothing to roll back: no applied transaction", 2));
    }
  } else {
    for (const auto& t : all)
      if (t.id == id) target = &t;
    if (!target) {
      std::vector<std::string> known;
      for (const auto& t : all) known.push_back(t.id);
      return tl::unexpected(err("unknown transaction id \"" + id + "\"" +
                                    (known.empty() ? std::string(" (there are none)")
                                                   : " (known: " + join(known, ", ") + ")"),
                                2));
    }
    if (target->damaged()) return tl::unexpected(TxError{target->error, 3});
  }
  const TxInfo& tx = *target->tx;
  if (tx.state == TxState::rolled_back)
    return tl::unexpected(err("transaction " + tx.id + " is already rolled back", 2));

  // A later transaction that edited the same files must be undone first, or restoring this
  // one's backups would silently discard it. What a damaged later one changed is unknown.
  auto mine = edited_paths(tx);
  std::vector<std::string> notes;
  for (const auto& t : all) {
    if (!transaction_older(tx.id, t.id)) continue;
    if (t.damaged()) {
      std::string what = "transaction " + t.id + ", newer than " + tx.id + ", is damaged (" +
                         t.error.describe() +
                         "), so exliar cannot tell whether it changed the same files";
      if (!opts.force)
        return tl::unexpected(err(what + "; repair it, or run `exliar rollback --force " + tx.id +
                                      "` to restore this one's files anyway",
                                  3));
      notes.push_back(what + "; restored anyway (--force)");
      continue;
    }
    if (t.tx->state == TxState::rolled_back) continue;
    for (const auto& p : edited_paths(*t.tx))
      if (mine.count(p))
        return tl::unexpected(err("transaction " + t.id + " changed " + fs.display(p) +
                                      " after this one; roll back " + t.id + " first",
                                  3));
  }

  auto log = fs.read_file(path_join(tx.dir, "log"));
  if (!log) return tl::unexpected(TxError{log.error(), 3});
  Journal j(fs, tx.dir, *log, opts.after_record);
  std::string reason = tx.interrupted() ? "recovery of an interrupted transaction" : "user";
  auto undone = detail::undo_records(ctx, tx, j, reason, opts.force);
  if (!undone) return tl::unexpected(undone.error());
  TxOutcome out;
  out.id = tx.id;
  out.changed = true;
  out.pending = undone->pending;
  out.unrestored = undone->unrestored;
  out.warnings = notes;  // shown by the CLI
  for (const auto& n : undone->notes) detail::progress(ctx, "warning: " + n);
  return out;
}

Result<TxOutcome> rollback_transaction(Context& ctx, const std::string& id, bool force) {
  TxOptions o;
  o.force = force;
  auto r = undo_transaction(ctx, id, o);
  if (!r) return tl::unexpected(r.error().error);
  return *r;
}

}  // namespace exliar
