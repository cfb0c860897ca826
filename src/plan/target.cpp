// Choosing the GPU to pass through: an explicit address, or `auto`.
#include "plan/target.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"

namespace exliar {

namespace {

std::string describe(const gpu::GpuInfo& g) {
  std::string s = g.gpu.address.str() + " " + g.name;
  if (g.gpu.boot_vga) s += " (boot GPU)";
  return s;
}

// Findings about the GPU itself decide whether `auto` may pick it; system-wide ones
// (IOMMU off, missing parameters) are what the plan is there to fix.
bool gpu_has_error(const analyze::Report& r, const PciAddress& a) {
  for (const auto& f : r.findings)
    if (f.subject == a.str() && f.severity == analyze::Severity::error) return true;
  return false;
}

}  // namespace

Result<const gpu::GpuInfo*> choose_target(const std::string& want,
                                          const std::vector<gpu::GpuInfo>& gpus,
                                          const Inventory& inv, const analyze::Report& report) {
  if (want.empty() || want == "auto") {
    std::vector<const gpu::GpuInfo*> ok;
    for (const auto& g : gpus)
      if (g.passthrough_target() && !g.gpu.boot_vga && !gpu_has_error(report, g.gpu.address))
        ok.push_back(&g);
    if (ok.size() == 1) return ok.front();
    std::vector<std::string> all;
    for (const auto& g : gpus) all.push_back("  " + describe(g));
    if (gpus.empty()) return fail("no GPU found on this system: there is nothing to pass through");
    if (ok.empty())
      return fail(
          "--gpu auto found no GPU that can be passed through (the boot GPU and GPUs "
          "with blocking findings are not chosen automatically); run `exliar check`. "
          "GPUs:\n" +
          join(all, "\n"));
    std::vector<std::string> choices;
    for (const auto* g : ok) choices.push_back("  --gpu " + describe(*g));
    return fail("--gpu auto is ambiguous: more than one GPU can be passed through; choose one:\n" +
                join(choices, "\n"));
  }
  auto addr = parse_pci_address(want);
  if (!addr) return fail("'" + want + "' is not a PCI address (expected 0000:01:00.0 or 01:00.0)");
  const PciDevice* d = inv.find(*addr);
  if (!d) return fail("there is no PCI device " + addr->str() + " on this system");
  for (const auto& g : gpus) {
    auto fns = g.vm_functions();
    if (g.gpu.address == *addr || std::find(fns.begin(), fns.end(), *addr) != fns.end()) {
      if (!g.passthrough_target())
        return fail(fmt::format("{} is a {} display device ({}), not a GPU to pass through",
                                addr->str(), g.role, g.name));
      return &g;
    }
  }
  return fail(
      fmt::format("{} is not a GPU (class {:04x}); exliar passes GPUs and their "
                  "companion functions",
                  addr->str(), d->class_sub()));
}

}  // namespace exliar
