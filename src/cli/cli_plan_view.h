// Shared by every changing command (plan/apply, boot add/remove, bind/unbind, rollback):
// show a plan, ask for confirmation, run it as a transaction, report the outcome.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "host/context.h"
#include "plan/plan.h"
#include "state/transaction.h"

namespace exliar::cli {

/// Every step: file diffs (coloured when color), commands as they will run (or "recorded
/// as pending" when not live), sysfs writes with their undo values, and why each exists.
std::string render_plan(const Plan& plan, bool color, bool live = true);

/// `plan`: prints the plan (text, or the plan JSON with --json) on stdout.
int show_plan(Context& ctx, const Plan& plan);

/// Asks `question` on a TTY; --yes answers yes; without a TTY and without --yes refuses.
/// Returns kOk to go on, or the exit code to return.
int confirm(Context& ctx, const std::string& question);

/// `apply` and friends: shows the plan, says so and returns 0 when it is already in effect,
/// asks, runs the transaction, prints the outcome (pending chroot commands included).
int confirm_and_run(Context& ctx, const Plan& plan);

/// The part of confirm_and_run after the question (the terminal UI asks on its own
/// screen): runs the transaction, prints the outcome and the next steps.
int run_confirmed(Context& ctx, const Plan& plan);

/// Prints a transaction error and returns its exit code.
int report(Context& ctx, const TxError& e);

/// After a transaction (cli_next_steps.cpp): rewrites the rescue script under the journal
/// and returns where it is (as shown to the user), or nullopt after a warning.
std::optional<std::string> refresh_cleanup_script(Context& ctx);
/// Reboot or not and why, verify, undo, rescue script.
std::string next_steps_text(const Context& ctx, const Plan& plan, const TxOutcome& r,
                            const std::optional<std::string>& script);
nlohmann::ordered_json next_steps_json(const Plan& plan, const TxOutcome& r,
                                       const std::optional<std::string>& script);

/// The plan for `plan`/`apply`: from --from FILE, else from the planner.
Result<Plan> plan_for(Context& ctx, const PlanOptions& opts);
/// The planner (Intent -> Plan) wired by cli_planner.cpp.
Result<Plan> build_plan(Context& ctx, const PlanOptions& opts);

}  // namespace exliar::cli
