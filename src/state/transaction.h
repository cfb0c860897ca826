// The transaction engine's entry points used by every changing command (apply, boot
// add/remove, bind/unbind). Implemented in src/state/.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "host/context.h"
#include "host/error.h"
#include "plan/plan.h"

namespace exliar {

struct TxOutcome {
  std::string id;                    ///< transaction id under /var/lib/exliar/transactions
  bool changed = false;              ///< false when every step was already in effect
  std::vector<std::string> pending;  ///< commands recorded, not run (--root other than /)
  /// rollback --force: what it could not restore, though the transaction is closed.
  std::vector<std::string> unrestored;
  /// apply: what it found but could go on despite (a damaged transaction known closed).
  std::vector<std::string> warnings;
};

/// Executes plan as one journaled transaction: lock, backups, atomic writes, commands,
/// sysfs writes, commit. Any failing step rolls back every step done so far, restoring
/// files byte for byte, and the error says which step failed.
Result<TxOutcome> run_transaction(Context& ctx, const Plan& plan);

/// Undoes transaction id ("" = the last committed one).
Result<TxOutcome> rollback_transaction(Context& ctx, const std::string& id, bool force);

/// A failure together with the exit code the CLI should return for it (see cli::ExitCode:
/// 2 usage, 3 environment / refused with nothing changed, 4 failed and rolled back).
struct TxError {
  Error error;
  int exit_code = 3;
};
template <class T>
using TxResult = tl::expected<T, TxError>;

struct TxOptions {
  /// Effective uid used for the "root on a live system" check; -1 = geteuid().
  int euid = -1;
  /// Called after each journal record is durable, with its 0-based index (crash tests).
  std::function<void(size_t)> after_record;
  /// rollback: restore files even when they changed since apply.
  bool force = false;
  /// Plugins' on_pre_vfio_bind: called with the transaction id right before the binding
  /// itself (the first step that is not a file edit, or the commit), after a durable
  /// "hook" journal record, so a plugin that crashes or hangs leaves an interrupted
  /// transaction the next run rolls back. An error vetoes: everything is undone (exit 4).
  std::function<Status(const std::string& id)> before_binding;
  /// Plugins' on_post_vfio_bind: called after the commit record is durable.
  std::function<void(const std::string& id)> after_commit;
};

/// True when every file and sysfs step already holds its target (applying would change
/// nothing); false when something is missing or cannot be read.
bool plan_in_effect(const Fs& fs, const Plan& plan);

/// run_transaction with the exit code classified.
TxResult<TxOutcome> apply_plan(Context& ctx, const Plan& plan, const TxOptions& opts = {});
/// Refuses (exit 3) while an interrupted transaction waits for `exliar rollback`.
TxResult<void> check_interrupted(const Fs& fs);
/// What apply would find, seen under the transaction lock (taken and released here): a
/// transaction another exliar is running right now holds it, so it is reported as "lock
/// held", never as interrupted, and a concurrent rollback cannot make the plan look in
/// effect half-way through. Refuses like apply_plan (privileges, lock, interrupted);
/// otherwise true when applying would change nothing.
TxResult<bool> plan_in_effect_locked(Fs& fs, const Plan& plan, const TxOptions& opts = {});
/// rollback_transaction with the exit code classified. id "" = the interrupted transaction
/// if there is one, else the last applied one.
TxResult<TxOutcome> undo_transaction(Context& ctx, const std::string& id,
                                     const TxOptions& opts = {});

}  // namespace exliar
