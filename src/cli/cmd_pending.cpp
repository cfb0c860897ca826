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

int run_snapshot(Context& c, const SnapshotOptions&) { return pending(c, "snapshot"); }
int run_tui(Context& c) { return pending(c, "tui"); }

}  // namespace exliar::cli
