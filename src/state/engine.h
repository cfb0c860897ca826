// Internals shared by apply (transaction.cpp) and rollback (undo.cpp).
#pragma once

#include <string>
#include <vector>

#include "host/context.h"
#include "state/journal.h"
#include "state/transaction.h"

namespace exliar::detail {

/// Refuses to change a live system ("/") unless running as root.
TxResult<void> check_privileges(const Fs& fs, const TxOptions& opts);
/// Takes <root>/var/lib/exliar/lock; "lock held" when another exliar has it.
TxResult<FileLock> take_lock(Fs& fs);
/// A message to stderr unless --quiet.
void progress(const Context& ctx, const std::string& msg);

struct UndoResult {
  std::vector<std::string> pending;  ///< regeneration commands to run in a chroot
  std::vector<std::string> notes;    ///< warnings (a directory left because it is not empty)
  /// --force only: what could not be restored although the transaction was closed.
  std::vector<std::string> unrestored;
};

/// Undoes every step that `records` shows as started, newest first, then re-runs the
/// regeneration commands. Checks first (changing nothing) that every backup is intact and,
/// unless force, that no file changed since exliar wrote it. Idempotent: running it again
/// after an interruption finishes the job.
TxResult<UndoResult> undo_records(Context& ctx, const TxInfo& tx, Journal& journal,
                                  const std::string& reason, bool force);

}  // namespace exliar::detail
