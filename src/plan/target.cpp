// Choosing the GPU to pass through: an explicit address, or `auto`.
#include "plan/target.h"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/recommend.h"
#include "host/text.h"

namespace exliar {

namespace {

std::string describe(const gpu::GpuInfo& g) {
  std::string s = g.gpu.address.str() + " " + g.name;
  if (g.gpu.boot_vga) s += " (boot GPU)";
  return s;
}

}  // namespace

Result<const gpu::GpuInfo*> choose_target(const std::string& want,
                                          const std::vector<gpu::GpuInfo>& gpus,
                                          const Inventory& inv, const analyze::Report& report) {
  if (want.empty() || want == "auto") {
    // The same choice `check` recommends (analyze/recommend.cpp).
    auto rec = analyze::recommend(report, gpus);
    for (const auto& g : gpus)
      if (rec.gpu && g.gpu.address == *rec.gpu) return &g;
    if (gpus.empty()) return fail("no GPU found on this system: there is nothing to pass through");
    std::vector<std::string> all;
    for (const auto& g : gpus) all.push_back("  " + describe(g));
    if (rec.candidates.empty())
      return fail(
          "--gpu auto found no GPU that can be passed through (the boot GPU and GPUs "
          "with blocking findings are not chosen automatically); run `exliar check`. "
          "GPUs:\n" +
          join(all, "\n"));
    std::vector<std::string> choices;
    for (const auto& g : gpus)
      for (const auto& c : rec.candidates)
        if (g.gpu.address == c) choices.push_back("  --gpu " + describe(g));
    return fail("--gpu auto is ambiguous: " + rec.reason + ":\n" + join(choices, "\n"));
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
