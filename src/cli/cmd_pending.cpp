// Verbs whose implementation has not landed yet. Each says so plainly and exits 3;
// a verb's real implementation replaces its entry here with cmd_<verb>.cpp.
#include "cli/commands.h"
#include "cli/output.h"

namespace exliar::cli {

namespace {
int pending(const Context& ctx, const char* verb) {
  error(ctx, std::string("`") + verb + "` is not available in this build yet");
  return kEnvironment;
}
}  // namespace

int run_plan(Context& c, const PlanOptions&) { return pending(c, "plan"); }
int run_apply(Context& c, const PlanOptions&) { return pending(c, "apply"); }
int run_status(Context& c) { return pending(c, "status"); }
int run_rollback(Context& c, const RollbackOptions&) { return pending(c, "rollback"); }
int run_cleanup_script(Context& c) { return pending(c, "cleanup-script"); }
int run_bind(Context& c, const BindOptions&) { return pending(c, "bind"); }
int run_unbind(Context& c, const BindOptions&) { return pending(c, "unbind"); }
int run_snapshot(Context& c, const SnapshotOptions&) { return pending(c, "snapshot"); }
int run_tui(Context& c) { return pending(c, "tui"); }

}  // namespace exliar::cli
