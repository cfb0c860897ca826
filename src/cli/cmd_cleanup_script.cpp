// `exliar cleanup-script`: a POSIX sh script that undoes everything without exliar.
#include "cli/commands.h"
#include "cli/output.h"
#include "state/cleanup_script.h"

namespace exliar::cli {

int run_cleanup_script(Context& ctx) {
  auto script = make_cleanup_script(ctx.fs);
  if (!script) {
    error(ctx, script.error().describe());
    return kEnvironment;
  }
  return emit(ctx, *script);
}

}  // namespace exliar::cli
