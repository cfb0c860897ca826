// `exliar test ADDR [--bind] [--resets N]`: measure through VFIO, on this machine's GPU,
// what the database can only predict — does it survive resets, does its ROM load, do its
// BARs fit. The group must be on vfio-pci (after apply and a reboot, or `exliar bind`);
// --bind moves it there for the test with bind's safety checks and gives it back after.
#include <fmt/format.h>

#include "analyze/selftest.h"
#include "cli/cli_plan_view.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "host/paths.h"
#include "modules/bind.h"
#include "probe/probe.h"
#include "probe/vfio_measure.h"
#include "state/transaction.h"

namespace exliar::cli {

namespace {

using json = nlohmann::ordered_json;

// What keeps the test from opening the device: the device itself must be on vfio-pci
// (VFIO_GROUP_GET_DEVICE_FD finds only vfio-pci's devices), and the group must be viable,
// the kernel's rule in drivers/vfio/group.c: every other member bound to vfio-pci or to no
// driver (bridges aside, as vfio-pci's own viability check lets them pass).
std::vector<std::string> not_on_vfio(const Inventory& inv, const PciDevice& target) {
  std::vector<std::string> out;
  const auto* g = inv.find_group(*target.iommu_group);
  if (!g) return out;
  for (const auto& a : g->devices) {
    const auto* d = inv.find(a);
    if (!d || d->is_bridge() || (d->driver && *d->driver == kVfioPciDriver)) continue;
    if (!d->driver && a != target.address) continue;
    out.push_back(fmt::format("{} ({})", a.str(), d->driver.value_or("no driver")));
  }
  return out;
}

// The bind or unbind of the test, as `exliar bind` runs it: one transaction, drivers
// checked after. Returns false (after saying why) when it did not take effect.
bool move_group(Context& ctx, const BindOutcome& b, const char* what) {
  if (b.plan.steps.empty()) return true;
  auto tx = run_transaction(ctx, b.plan);
  if (!tx) {
    error(ctx, fmt::format("{} failed: {} (every device was given back its previous driver)", what,
                           tx.error().describe()));
    return false;
  }
  auto bad = check_drivers(ctx.fs, b.expect);
  for (const auto& m : bad) error(ctx, m);
  if (!bad.empty()) {
    if (auto rb = rollback_transaction(ctx, tx->id, false); !rb)
      error(ctx, "rolling back failed as well: " + rb.error().describe());
    return false;
  }
  return true;
}

std::string checklist(const TestReport& r, const PciDevice& dev) {
  std::string s = fmt::format("exliar test {} ({}), IOMMU group {}\n", dev.address.str(),
                              dev.device_name.value_or("unknown device"), r.m.group);
  for (const auto& it : r.items) {
    s += fmt::format("  [{:<4}] {}\n", to_string(it.state), it.title);
    for (const auto& d : it.details) s += "         " + d + "\n";
    if (it.next) s += "         -> " + *it.next + "\n";
  }
  const char* v = r.verdict == TestState::fail   ? "FAIL: this GPU will give trouble in a VM"
                  : r.verdict == TestState::warn ? "passed with warnings"
                                                 : "passed";
  s += fmt::format("Verdict: {}\n", v);
  return s;
}

}  // namespace

int run_test(Context& ctx, const TestOptions& o) {
  if (o.resets < 1 || o.resets > 100) {
    error(ctx, fmt::format("--resets must be between 1 and 100, not {}", o.resets));
    return kUsage;
  }
  auto addr = parse_pci_address(o.address);
  if (!addr) {
    error(ctx, fmt::format("'{}' is not a PCI address (expected 0000:01:00.0)", o.address));
    return kUsage;
  }
  Inventory inv = probe(ctx.fs);
  const PciDevice* dev = inv.find(*addr);
  const Gpu* gpu = inv.find_gpu(*addr);
  if (!dev) {
    error(ctx,
          fmt::format("no PCI device {} on this machine (exliar detect lists them)", addr->str()));
    return kEnvironment;
  }
  if (!gpu) {
    error(ctx, fmt::format("{} is not a GPU (class {:06x}); exliar test measures GPUs", addr->str(),
                           dev->class_code));
    return kUsage;
  }
  if (!gpu->iommu_group) {
    error(ctx, fmt::format("{} has no IOMMU group: the IOMMU is off, and VFIO needs it "
                           "(exliar check says how to turn it on)",
                           addr->str()));
    return kEnvironment;
  }
  if (gpu->isolation == Isolation::shared) {
    std::vector<std::string> others;
    for (const auto& a : gpu->shared_with) others.push_back(a.str());
    error(ctx, fmt::format("the IOMMU group {} of {} is shared with {}: testing it would take "
                           "them from the host too (exliar check explains the group)",
                           *gpu->iommu_group, addr->str(), fmt::join(others, ", ")));
    return kEnvironment;
  }

  // The refusals above hold for a --root copy of a machine too; measuring needs its kernel.
  if (!ctx.fs.is_live()) {
    error(ctx, fmt::format("exliar test cannot measure under --root: it talks to the device "
                           "through the kernel's VFIO interface (the checks that need no "
                           "kernel passed: IOMMU group {} holds only this GPU)",
                           *gpu->iommu_group));
    return kUsage;
  }

  std::optional<BindOutcome> bound;  // what --bind did, to give it back
  if (auto busy = not_on_vfio(inv, *dev); !busy.empty()) {
    if (!o.bind) {
      error(ctx, fmt::format("IOMMU group {} is not on vfio-pci: {}. Run `exliar bind {}` "
                             "first, or `exliar test --bind {}` to bind it for the test only",
                             *gpu->iommu_group, fmt::join(busy, ", "), addr->str(), addr->str()));
      return kEnvironment;
    }
    auto b = plan_bind(ctx.fs, inv, addr->str(), false);
    if (!b) {
      error(ctx, b.error().describe());
      return kEnvironment;
    }
    std::fprintf(ctx.output.err,
                 "test --bind %s: the group goes to vfio-pci for the test and "
                 "back to its drivers after.\n",
                 addr->str().c_str());
    if (int rc = confirm(ctx, "Proceed?"); rc != kOk) return rc;
    if (!move_group(ctx, *b, "bind")) return kApplyFailed;
    bound = std::move(*b);
  }

  auto m = measure_vfio(ctx.fs, *dev, o.resets);

  int rc = kOk;
  if (bound) {
    // Give the group back whatever the measurement said (its drivers as bind saved them).
    Inventory now = probe(ctx.fs);
    auto u = plan_unbind(ctx.fs, now, addr->str());
    if (!u || !move_group(ctx, *u, "giving the group back")) {
      if (!u) error(ctx, u.error().describe());
      error(ctx,
            fmt::format("the group is still on vfio-pci: run `exliar unbind {}`", addr->str()));
      rc = kApplyFailed;
    }
  }
  if (!m) {
    error(ctx, "the measurement failed: " + m.error().describe());
    return rc == kOk ? kEnvironment : rc;
  }

  TestReport r = interpret(*m, o.resets);
  json j = test_report_json(r);
  // The record `check` reads back; losing it costs only the "measured" line.
  std::string rec = test_record_path(*addr);
  (void)ctx.fs.make_dir(paths::kStateDir, 0755);
  (void)ctx.fs.make_dir(paths::kTestResultsDir, 0755);
  if (auto w = ctx.fs.write_atomic(rec, j.dump(2) + "\n", 0644); !w)
    error(ctx, "could not save the result: " + w.error().describe());
  else if (!ctx.output.json)
    say(ctx, fmt::format("result saved in {} (exliar check shows it)", rec));

  int out = ctx.output.json ? emit_json(ctx, j) : emit(ctx, checklist(r, *dev));
  if (out != kOk) return out;
  if (rc != kOk) return rc;
  return r.verdict == TestState::fail ? kFindings : kOk;
}

}  // namespace exliar::cli
