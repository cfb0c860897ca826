// `exliar bind ADDR` / `exliar unbind ADDR`: move a whole IOMMU group to vfio-pci now, or
// give it back. The sysfs writes are a Plan run by the transaction engine, so a failing
// write rolls back every earlier one; afterwards each device's driver is checked and a
// mismatch (the kernel did not do what the writes asked) rolls the transaction back too.
#include <fmt/format.h>

#include <iostream>

#include "cli/cli_plan_view.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "modules/bind.h"
#include "probe/probe.h"
#include "state/transaction.h"

namespace exliar::cli {

namespace {

std::string describe(const Plan& plan) {
  std::string s;
  for (const auto& st : plan.steps) {
    if (auto* w = std::get_if<WriteSysfs>(&st.action)) {
      std::string v = w->value == "\n" ? "(empty)" : w->value;
      s += fmt::format("  write {:<14} > {}", v, w->path);
      if (w->undo_path)
        s += fmt::format("   (undo: {} > {})", *w->undo_value == "\n" ? "(empty)" : *w->undo_value,
                         *w->undo_path);
      s += "\n";
    } else if (auto* e = std::get_if<EditFile>(&st.action)) {
      s += fmt::format("  {} {}\n", e->after ? "write" : "remove", e->path);
    } else if (auto* c = std::get_if<RunCommand>(&st.action)) {
      s += "  run " + shell_quote(c->argv) + "\n";
    }
  }
  for (const auto& w : plan.warnings) s += "  warning: " + w + "\n";
  return s;
}

int run(Context& ctx, const std::string& verb, const std::string& address,
        Result<BindOutcome> (*make)(const Fs&, const Inventory&, std::string_view, bool),
        bool force) {
  Inventory inv = probe(ctx.fs);
  auto b = make(ctx.fs, inv, address, force);
  if (!b) {
    error(ctx, b.error().describe());
    return parse_pci_address(address) ? kEnvironment : kUsage;
  }
  if (b->plan.steps.empty()) {
    say(ctx, fmt::format("{}: nothing to do, the IOMMU group of {} is already {}", verb, address,
                         verb == "bind" ? "on vfio-pci" : "off vfio-pci"));
    return kOk;
  }
  std::fprintf(ctx.output.err, "%s %s:\n%s", verb.c_str(), address.c_str(),
               describe(b->plan).c_str());
  // The same answers and exit codes as every changing command (cli_plan_view.h).
  if (int rc = confirm(ctx, "Proceed?"); rc != kOk) return rc;
  auto tx = run_transaction(ctx, b->plan);
  if (!tx) {
    error(ctx, tx.error().describe() + " (every device was given back its previous driver)");
    return kApplyFailed;
  }
  if (!ctx.fs.is_live()) {
    say(ctx, "--root: the sysfs writes went to files under the root; no kernel answered them");
    return kOk;
  }
  auto bad = check_drivers(ctx.fs, b->expect);
  if (!bad.empty()) {
    for (const auto& m : bad) error(ctx, m);
    auto rb = rollback_transaction(ctx, tx->id, false);
    if (!rb) error(ctx, "rolling back failed as well: " + rb.error().describe());
    return kApplyFailed;
  }
  for (const auto& [a, drv] : b->expect)
    say(ctx, fmt::format("{} -> {}", a.str(), drv.empty() ? "no driver" : drv));
  return kOk;
}

Result<BindOutcome> unbind_adapter(const Fs& fs, const Inventory& inv, std::string_view a, bool) {
  return plan_unbind(fs, inv, a);
}

}  // namespace

int run_bind(Context& ctx, const BindOptions& o) {
  return run(ctx, "bind", o.address, plan_bind, o.force);
}
int run_unbind(Context& ctx, const BindOptions& o) {
  return run(ctx, "unbind", o.address, unbind_adapter, o.force);
}

}  // namespace exliar::cli
