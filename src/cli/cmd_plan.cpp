// `exliar plan` (dry run) and `exliar apply`: the same Plan, shown or executed.
#include "cli/cli_plan_view.h"
#include "cli/output.h"

namespace exliar::cli {

int run_plan(Context& ctx, const PlanOptions& opts) {
  auto plan = plan_for(ctx, opts);
  if (!plan) {
    error(ctx, plan.error().describe());
    return opts.from.empty() ? kEnvironment : kUsage;
  }
  return show_plan(ctx, *plan);
}

int run_apply(Context& ctx, const PlanOptions& opts) {
  auto plan = plan_for(ctx, opts);
  if (!plan) {
    error(ctx, plan.error().describe());
    return opts.from.empty() ? kEnvironment : kUsage;
  }
  return confirm_and_run(ctx, *plan);
}

}  // namespace exliar::cli
