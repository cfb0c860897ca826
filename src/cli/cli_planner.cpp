// `plan` and `apply` without --from: probe this host, then Intent -> Plan.
#include "cli/cli_plan_view.h"
#include "cli/output.h"
#include "gpu/db.h"
#include "plan/planner.h"

namespace exliar::cli {

Result<Plan> build_plan(Context& ctx, const PlanOptions& opts) {
  Inventory inv = probe_host(ctx);
  auto db = gpu::load_gpu_db(ctx.gpu_db_dir);
  if (!db) return tl::unexpected(db.error());
  PlanRequest req;
  req.gpu = opts.gpu;
  req.bind = opts.bind;
  req.acs_override = opts.acs_override;
  req.no_initramfs = opts.no_initramfs;
  req.extra_params = opts.extra_params;
  req.rom = opts.rom;
  return make_plan(req, inv, ctx.fs, *db);
}

}  // namespace exliar::cli
