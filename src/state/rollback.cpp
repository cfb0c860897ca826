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
  auto ids = list_transactions(fs);
  if (!ids) return tl::unexpected(TxError{ids.error(), 3});

  std::vector<TxInfo> all;
  for (const auto& t : *ids) {
    auto tx = load_transaction(fs, t);
    if (!tx) {
      // Only the transaction being rolled back must be readable; an unrelated corrupt one is
      // reported when it matters (it could hold later edits of the same files).
      if (!id.empty() && t != id) return tl::unexpected(TxError{tx.error(), 3});
      return tl::unexpected(TxError{tx.error(), 3});
    }
    all.push_back(std::move(*tx));
  }
  const TxInfo* target = nullptr;
  if (id.empty()) {
    for (auto it = all.rbegin(); it != all.rend() && !target; ++it)
      if (it->interrupted()) target = &*it;
    for (auto it = all.rbegin(); it != all.rend() && !target; ++it)
      if (it->state == TxState::committed) target = &*it;
    if (!target) return tl::unexpected(err("nothing to roll back: no applied transaction", 2));
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
  }
  if (target->state == TxState::rolled_back)
    return tl::unexpected(err("transaction " + target->id + " is already rolled back", 2));

  // A later transaction that edited the same files must be undone first, or restoring this
  // one's backups would silently discard it.
  auto mine = edited_paths(*target);
  for (const auto& t : all) {
    if (!transaction_older(target->id, t.id) || t.state == TxState::rolled_back) continue;
    for (const auto& p : edited_paths(t))
      if (mine.count(p))
        return tl::unexpected(err("transaction " + t.id + " changed " + fs.display(p) +
                                      " after this one; roll back " + t.id + " first",
                                  3));
  }

  auto log = fs.read_file(path_join(target->dir, "log"));
  if (!log) return tl::unexpected(TxError{log.error(), 3});
  Journal j(fs, target->dir, *log, opts.after_record);
  std::string reason = target->interrupted() ? "recovery of an interrupted transaction" : "user";
  auto undone = detail::undo_records(ctx, *target, j, reason, opts.force);
  if (!undone) return tl::unexpected(undone.error());
  TxOutcome out;
  out.id = target->id;
  out.changed = true;
  out.pending = undone->pending;
  out.unrestored = undone->unrestored;
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
