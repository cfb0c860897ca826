#include "plan/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "analyze/findings.h"
#include "boot/backend.h"
#include "boot/params.h"
#include "gpu/vbios.h"
#include "gpu/vendor/handler.h"
#include "host/text.h"
#include "modules/vfio_modules.h"
#include "plan/target.h"

namespace exliar {

namespace {

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::string id_of(const PciDevice& d) {
  return fmt::format("{:04x}:{:04x}", d.vendor_id, d.device_id);
}

// Binding by IDs claims every device with those IDs. When a device that stays with the
// host shares an ID with a passed function (two identical cards, or the same HD-audio
// controller), only binding by address is correct.
std::vector<std::string> id_clashes(const Inventory& inv, const std::vector<PciAddress>& fns) {
  std::set<std::string> ids;
  for (const auto& a : fns)
    if (const PciDevice* d = inv.find(a)) ids.insert(id_of(*d));
  std::vector<std::string> out;
  for (const auto& d : inv.devices)
    if (ids.count(id_of(d)) && std::find(fns.begin(), fns.end(), d.address) == fns.end())
      out.push_back(d.address.str() + " [" + id_of(d) + "]");
  return out;
}

// Edits first (module files, then boot files), commands last: regeneration must see
// every file in its final state.
void append_ordered(Plan& plan, std::vector<Step> steps) {
  for (auto& s : steps) plan.steps.push_back(std::move(s));
  std::stable_partition(plan.steps.begin(), plan.steps.end(),
                        [](const Step& s) { return std::holds_alternative<EditFile>(s.action); });
}

Result<Plan> plan_request(const PlanRequest& req, const Inventory& inv, const Fs& fs,
                          const gpu::GpuDb& db) {
  auto gpus = gpu::classify(inv, db);
  auto facts = analyze::gather_config_facts(fs);
  auto report = analyze::analyze(inv, gpus, facts);
  auto target = choose_target(req.gpu, gpus, inv, report);
  if (!target) return tl::unexpected(target.error());
  const gpu::GpuInfo& g = **target;

  Plan plan;
  plan.intent.command = "apply";
  plan.intent.gpu = g.gpu.address.str();
  plan.intent.acs_override = req.acs_override;
  plan.intent.no_initramfs = req.no_initramfs;
  plan.intent.extra_params = req.extra_params;
  plan.intent.rom = req.rom;

  // Unknown state stops apply: groups exist but this GPU is in none of them.
  if (inv.system.iommu.active && (!g.gpu.iommu_group || !inv.find_group(*g.gpu.iommu_group)))
    return fail(fmt::format(
        "{} has no IOMMU group although the IOMMU is active: its isolation cannot be checked, "
        "so exliar does not prepare it (see `exliar check --gpu {}`)",
        g.gpu.address.str(), g.gpu.address.str()));
  if (g.gpu.isolation == Isolation::shared && !req.acs_override) {
    std::vector<std::string> others;
    for (const auto& a : g.gpu.shared_with) {
      const PciDevice* d = inv.find(a);
      others.push_back(a.str() + (d && d->driver ? " (" + *d->driver + ")" : ""));
    }
    return fail(fmt::format(
        "{}'s IOMMU group {} also holds {}: every device of a group goes to the VM together. "
        "Move the card to another slot, or pass --acs-override (needs a kernel with the ACS "
        "override patch, and lets those devices reach each other's memory)",
        g.gpu.address.str(), g.gpu.iommu_group.value_or(-1), join(others, ", ")));
  }
  if (g.gpu.boot_vga)
    plan.warnings.push_back(g.gpu.address.str() +
                            " is the boot GPU: after the reboot the host has no console on it "
                            "(single-GPU passthrough); keep SSH access ready");
  if (req.acs_override)
    plan.warnings.push_back(
        "pcie_acs_override splits IOMMU groups the hardware does not isolate: "
        "devices in the same real group can still reach each other (DMA)");
  if (g.gpu.isolation == Isolation::no_iommu)
    plan.warnings.push_back(
        "the IOMMU is not active yet, so the GPU's group cannot be checked; "
        "run `exliar check` again after the reboot");

  if (!req.rom.empty()) {
    // A ROM the VM will load instead of the card's own: refuse a file that is not a valid
    // image for this GPU now rather than at the VM's first black screen.
    const PciDevice* dev = inv.find(g.gpu.address);
    auto rom = dev ? validate_rom_for(req.rom, *dev) : Result<ValidatedRom>(fail("GPU not found"));
    if (!rom) return fail("--rom: " + rom.error().describe());
    plan.intent.rom = rom->path;
    for (const auto& w : rom->warnings) plan.warnings.push_back("--rom: " + w);
  }

  std::vector<PciAddress> fns = g.vm_functions();
  auto clashes = id_clashes(inv, fns);
  std::string mode = req.bind;
  if (mode.empty()) mode = clashes.empty() ? "ids" : "address";
  if (mode == "ids" && !clashes.empty())
    return fail("--bind ids would also take " + join(clashes, ", ") +
                " from the host (same vendor:device IDs); use --bind address");
  plan.intent.bind_mode = mode;

  const auto& handler = gpu::handler_for(g);
  gpu::Preparation prep = handler.prepare(g, inv);
  VfioRequest vr;
  vr.addresses = fns;
  vr.mode = mode == "address" ? BindMode::address : BindMode::ids;
  vr.no_initramfs = req.no_initramfs;
  vr.disable_vga = g.gpu.vendor != GpuVendor::other && !g.gpu.integrated;
  vr.vendor_reset = std::find(prep.early_modules.begin(), prep.early_modules.end(),
                              "vendor_reset") != prep.early_modules.end();
  for (const auto& a : fns)
    if (const PciDevice* d = inv.find(a)) {
      if (vr.mode == BindMode::ids) add_unique(vr.ids, id_of(*d));
      if (d->driver && *d->driver != "vfio-pci")
        add_unique(vr.native_drivers, module_for_driver(fs, *d->driver));
    }
  for (const auto& m : prep.softdep_drivers) add_unique(vr.native_drivers, m);
  for (const auto& m : gpu::companion_drivers(g)) add_unique(vr.native_drivers, m);
  for (const auto& n : prep.notes) plan.warnings.push_back(n);

  auto modules = plan_vfio_modules(fs, inv, vr);
  if (!modules) return tl::unexpected(modules.error());
  for (const auto& w : modules->warnings) plan.warnings.push_back(w);

  boot::ManagedParamsInput pin;
  pin.cpu = inv.system.cpu.vendor;
  pin.initramfs = req.no_initramfs ? Initramfs::unknown : inv.system.initramfs;
  pin.ids = vr.ids;
  pin.acs_override = req.acs_override;
  pin.kernel = inv.system.kernel;
  pin.extras = req.extra_params;
  for (const auto& q : handler.apply_quirks(g, inv)) add_unique(pin.extras, q.param);
  auto params = boot::managed_params(pin);
  if (!params) return tl::unexpected(params.error());
  for (const auto& p : modules->kernel_params) add_unique(*params, p);

  auto backend = boot::select_backend(fs, inv.system);
  if (!backend) return tl::unexpected(backend.error());
  auto boot_plan = (*backend)->plan(fs, boot::add_edits(*params));
  if (!boot_plan) return tl::unexpected(boot_plan.error());
  for (const auto& w : boot_plan->warnings) plan.warnings.push_back(w);

  // Regenerating the initramfs only makes sense when a module file changes; without this
  // a second apply of the same intent would rebuild every initramfs for nothing.
  bool module_edits = std::any_of(modules->steps.begin(), modules->steps.end(), [](const Step& s) {
    return std::holds_alternative<EditFile>(s.action);
  });
  if (!module_edits) modules->steps.clear();
  append_ordered(plan, std::move(modules->steps));
  append_ordered(plan, std::move(boot_plan->steps));
  // What `status` compares with the running system after the reboot.
  plan.expect_cmdline = *params;
  for (const auto& a : fns) plan.expect_vfio.push_back(a.str());
  return plan;
}

}  // namespace

Result<Plan> make_plan(const PlanRequest& req, const Inventory& inv, const Fs& fs,
                       const gpu::GpuDb& db) {
  // Parsers below know paths inside the root; the user reads them with the root prefix.
  auto plan = plan_request(req, inv, fs, db);
  if (!plan) return tl::unexpected(in_root(fs, plan.error()));
  return plan;
}

}  // namespace exliar
