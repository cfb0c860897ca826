#include "cli/output.h"
#include "gpu/db.h"
#include "plugin/host.h"
#include "probe/probe.h"

namespace exliar::cli {

Inventory probe_host(Context& ctx) {
  Inventory inv = probe(ctx.fs);
  print_notes(ctx, inv);
  if (ctx.output.verbosity == Verbosity::verbose)
    std::fprintf(ctx.output.err, "exliar: device names from %s\n",
                 inv.pci_ids_path ? inv.pci_ids_path->c_str() : "nowhere (no pci.ids found)");
  // Plugins see every device and may annotate it (shown in detect --json).
  PluginHost plugins(ctx);
  plugins.on_init();
  plugins.on_device_detect(inv);
  if (ctx.output.verbosity != Verbosity::quiet)
    for (const auto& w : plugins.take_warnings())
      std::fprintf(ctx.output.err, "exliar: warning: %s\n", w.c_str());
  return inv;
}

std::optional<Classified> probe_and_classify(Context& ctx) {
  auto db = gpu::load_gpu_db(ctx.gpu_db_dir);
  if (!db) {
    error(ctx, "GPU database: " + db.error().describe());
    return std::nullopt;
  }
  Classified c{probe_host(ctx), {}};
  c.gpus = gpu::classify(c.inv, *db);
  return c;
}

}  // namespace exliar::cli
