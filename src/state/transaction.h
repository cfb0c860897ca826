// The transaction engine's entry points used by every changing command (apply, boot
// add/remove, bind/unbind). Implemented in src/state/.
#pragma once

#include <string>
#include <vector>

#include "host/context.h"
#include "host/error.h"
#include "plan/plan.h"

namespace exliar {

struct TxOutcome {
  std::string id;                      ///< transaction id under /var/lib/exliar/transactions
  bool changed = false;                ///< false when every step was already in effect
  std::vector<std::string> pending;    ///< commands recorded, not run (--root other than /)
};

/// Executes plan as one journaled transaction: lock, backups, atomic writes, commands,
/// sysfs writes, commit. Any failing step rolls back every step done so far, restoring
/// files byte for byte, and the error says which step failed.
Result<TxOutcome> run_transaction(Context& ctx, const Plan& plan);

/// Undoes transaction id ("" = the last committed one).
Result<TxOutcome> rollback_transaction(Context& ctx, const std::string& id, bool force);

}  // namespace exliar
