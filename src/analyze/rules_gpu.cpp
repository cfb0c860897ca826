// Rules about one GPU (subject = its address).
#include <fmt/format.h>

#include <algorithm>

#include "analyze/findings.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::analyze {

using gpu::GpuInfo;

namespace {

std::string attr(const PciAddress& a, std::string_view name) {
  return fmt::format("{}/{}/{}", paths::kPciDevices, a.str(), name);
}

std::string label(const Inventory& inv, const PciAddress& a) {
  const PciDevice* d = inv.find(a);
  if (!d) return a.str();
  std::string name = d->device_name ? *d->device_name : "device";
  if (d->vendor_name) name = *d->vendor_name + " " + name;
  return fmt::format("{} [{:04x}] {} [{}:{}]{}", a.str(), d->class_sub(), name, hex4(d->vendor_id),
                     hex4(d->device_id), d->driver ? " (driver " + *d->driver + ")" : "");
}

bool is_native(const std::string& drv) {
  for (auto n : {"amdgpu", "radeon", "nouveau", "nvidia", "i915", "xe"})
    if (drv == n) return true;
  return false;
}

void not_target(const RuleInput&, const GpuInfo* g, std::vector<Finding>& out) {
  if (g->passthrough_target()) return;
  std::string what = g->role == "bmc" ? "the server's management (BMC) video" : "an emulated GPU";
  out.push_back({"not-a-passthrough-target",
                 Severity::error,
                 g->gpu.address.str(),
                 fmt::format("{} is {}, not a GPU that can be given to a VM.", g->name, what),
                 {db_evidence(*g)},
                 std::nullopt});
}

void unknown(const RuleInput&, const GpuInfo* g, std::vector<Finding>& out) {
  if (g->known) return;
  out.push_back({"unknown-gpu",
                 Severity::info,
                 g->gpu.address.str(),
                 fmt::format("{} is not in exliar's GPU database; vendor-level defaults are used "
                             "and reset behaviour is unknown.",
                             g->name),
                 {fmt::format("{}: {}, {}: {}", attr(g->gpu.address, "vendor"), hex4(g->vendor_id),
                              "device", hex4(g->device_id)),
                  db_evidence(*g)},
                 "Update the GPU database (--gpu-db DIR) or report the IDs."});
}

void group_shared(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (g->gpu.isolation != Isolation::shared) return;
  std::vector<std::string> ev{
      fmt::format("{}/{}/devices", paths::kIommuGroups, g->gpu.iommu_group.value_or(-1))};
  for (const auto& a : g->gpu.shared_with) ev.push_back("shares the group: " + label(in.inv, a));
  out.push_back(
      {"iommu-group-shared", Severity::error, g->gpu.address.str(),
       fmt::format("IOMMU group {} also holds {} device(s) that are not part of this GPU; "
                   "a VM can only get a whole group.",
                   g->gpu.iommu_group.value_or(-1), g->gpu.shared_with.size()),
       ev,
       "Move the card to a slot wired to the CPU (its own group), or update the firmware. "
       "Last resort: the ACS override (pcie_acs_override=downstream,multifunction, only on "
       "patched kernels such as linux-zen or Proxmox, `exliar plan --acs-override`) splits "
       "the group, but then devices in it may reach each other's memory by DMA: the "
       "isolation the IOMMU gives is gone."});
}

// The IOMMU is active (groups exist) but the GPU has no iommu_group link, or names a
// group that is not there: the kernel did not attach it to an IOMMU domain, so nothing
// is known about its isolation. Unknown state blocks; it is not "no-iommu yet".
void group_missing(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (!in.inv.system.iommu.active) return;
  const auto& grp = g->gpu.iommu_group;
  if (grp && in.inv.find_group(*grp)) return;
  out.push_back(
      {"iommu-group-missing",
       Severity::error,
       g->gpu.address.str(),
       grp ? fmt::format("the GPU names IOMMU group {}, which does not exist, although the "
                         "IOMMU is active ({} groups): its isolation cannot be checked.",
                         *grp, in.inv.system.iommu.group_count)
           : fmt::format("the GPU has no IOMMU group although the IOMMU is active ({} groups): "
                         "its isolation cannot be checked and vfio-pci cannot use it.",
                         in.inv.system.iommu.group_count),
       {attr(g->gpu.address, "iommu_group") +
        (grp ? ": group " + std::to_string(*grp) : std::string(": missing"))},
       "Check `dmesg` for IOMMU/DMAR errors about this device and the firmware's IOMMU "
       "settings; run `exliar check` again once the device has a group."});
}

void only_gpu(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (!g->passthrough_target()) return;
  int others = 0, consoles = 0;
  for (const auto& o : in.gpus) {
    if (o.gpu.address == g->gpu.address) continue;
    if (o.passthrough_target())
      ++others;
    else
      ++consoles;
  }
  if (others > 0) return;
  std::vector<std::string> ev{
      fmt::format("{}: {} GPU(s) found", paths::kPciDevices, in.gpus.size())};
  if (consoles > 0) {
    out.push_back({"only-gpu", Severity::warning, g->gpu.address.str(),
                   "This is the only real GPU; the host keeps only the BMC/emulated display.", ev,
                   "Make sure the host is reachable over the network or a serial/BMC console."});
    return;
  }
  // Proxmox VE hosts are managed over the network by design: a headless host is normal.
  const auto& kernel = in.inv.system.kernel;
  if (kernel && kernel->size() > 4 && kernel->compare(kernel->size() - 4, 4, "-pve") == 0) {
    ev.push_back(fmt::format("{}: {} (Proxmox VE kernel)", paths::kProcOsRelease, *kernel));
    out.push_back({"only-gpu", Severity::warning, g->gpu.address.str(),
                   "This is the host's only GPU: once it is bound to vfio-pci the Proxmox host has "
                   "no local display and is managed over the network only.",
                   ev,
                   "Keep network (web UI / SSH) access working before applying; a serial "
                   "console or IPMI helps when something goes wrong."});
    return;
  }
  out.push_back(
      {"only-gpu", Severity::error, g->gpu.address.str(),
       "This is the host's only GPU: binding it to vfio-pci at boot leaves the host "
       "without any display (single-GPU passthrough).",
       ev,
       "Add a second GPU (or use the CPU's iGPU: enable it in the firmware), or use "
       "single-GPU passthrough: libvirt hooks stop the display manager and unbind the GPU "
       "only while the VM runs. exliar's boot-time setup does not do that."});
}

void boot_gpu(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (!g->gpu.boot_vga || !g->passthrough_target()) return;
  bool others = false;
  for (const auto& o : in.gpus) others |= o.gpu.address != g->gpu.address && o.passthrough_target();
  if (!others) return;  // only-gpu already says it
  out.push_back(
      {"boot-gpu",
       Severity::warning,
       g->gpu.address.str(),
       "This is the boot GPU: the firmware framebuffer holds its memory and its ROM as "
       "read from sysfs may be a modified shadow copy.",
       {attr(g->gpu.address, "boot_vga") + ": 1"},
       "Prefer making another GPU primary in the firmware setup. Otherwise `exliar plan` "
       "adds initcall_blacklist=sysfb_init (video=efifb:off before 5.15) and the VM may need "
       "a clean ROM file."});
}

// A reset measured by `exliar test` on this machine outranks the database's prediction.
bool measured_reset(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  std::string a = g->gpu.address.str();
  for (const auto& e : in.facts.bad_records)
    if (e.path.find(a) != std::string::npos)
      out.push_back({"test-record-invalid",
                     Severity::warning,
                     a,
                     "The stored result of `exliar test` for this GPU cannot be read; it is "
                     "ignored.",
                     {e.describe()},
                     "Run `exliar test " + a + "` again."});
  for (const auto& m : in.facts.measured) {
    if (m.address != a) continue;
    std::string day = m.measured_at.substr(0, 10);
    std::vector<std::string> ev{
        fmt::format("{}: measured {}, {} sane reset(s) ({})", test_record_path(g->gpu.address),
                    m.measured_at, m.resets, m.reset_kind),
        db_evidence(*g)};
    if (m.survives == true)
      out.push_back({"reset-measured", Severity::info, a,
                     fmt::format("Reset measured OK on {} (exliar test): the GPU came back "
                                 "sane after every reset.",
                                 day),
                     ev, std::nullopt});
    else if (m.survives == false)
      out.push_back({"reset-measured", Severity::warning, a,
                     fmt::format("exliar test measured on {} that this GPU does not survive a "
                                 "reset here: a second VM start may fail.",
                                 day),
                     ev,
                     "Reboot (or suspend/resume) the host between VM runs; for AMD GPUs see "
                     "whether vendor-reset covers it."});
    else
      out.push_back({"reset-measured", Severity::warning, a,
                     fmt::format("exliar test found on {} that no reset is available for this "
                                 "GPU through VFIO.",
                                 day),
                     ev, "Give the VM every function of the slot, or reboot between VM runs."});
    return true;
  }
  return false;
}

void reset(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (!g->passthrough_target()) return;
  if (measured_reset(in, g, out)) return;
  const auto& c = g->caps;
  std::vector<std::string> ev{db_evidence(*g)};
  size_t first = out.size();
  if (c.has_reset_bug.value_or(false) && c.qemu_reset_quirk) {
    out.push_back({"reset-bug", Severity::warning, g->gpu.address.str(),
                   "Known: this GPU does not respond to a bus reset. QEMU resets it itself (PCI "
                   "config + SMC reset, hw/vfio/pci-quirks.c), which works only while the GPU's "
                   "SMC firmware runs: after a guest crash, or a guest that never loaded the "
                   "driver, the next VM start may fail (Windows guests BSOD).",
                   ev,
                   "Shut the guest down cleanly; if a VM start fails, reboot the host. Measure it "
                   "with `exliar test " +
                       g->gpu.address.str() + "`."});
  } else if (c.has_reset_bug.value_or(false) && c.vendor_reset_supported) {
    ev.push_back(fmt::format("{}: vendor_reset {}", paths::kSysModule,
                             in.facts.vendor_reset_loaded ? "loaded" : "not loaded"));
    out.push_back(
        {"reset-bug", Severity::warning, g->gpu.address.str(),
         "Known: this GPU has the AMD reset bug: after a VM shuts down it does not come back "
         "without help. vendor-reset supports it.",
         ev,
         "Install gnif/vendor-reset (DKMS), load it before vfio-pci and set reset_method "
         "to device_specific (exliar plan does both)."});
  } else if (c.has_reset_bug.value_or(false)) {
    out.push_back({"reset-bug", Severity::warning, g->gpu.address.str(),
                   "Reported: this GPU does not reset reliably and vendor-reset does not cover it: "
                   "a second VM start may fail or hang the host.",
                   ev, "Expect to reboot (or suspend/resume) the host between VM runs."});
  } else if (!c.has_reset_bug || !c.supports_reset) {
    // Unknown is not "fine": a discrete GPU that does not reset breaks the second VM start.
    out.push_back({"reset-unknown", g->gpu.integrated ? Severity::info : Severity::warning,
                   g->gpu.address.str(),
                   "Unknown: no source confirms how this GPU resets; test it before relying on VM "
                   "restarts.",
                   ev,
                   "Run `exliar test " + g->gpu.address.str() +
                       "` (resets the GPU through vfio-pci and checks it comes back), then start, "
                       "stop and start a VM."});
  }
  // The database's research note is provenance: -v and JSON only.
  if (c.notes && out.size() > first) out.back().provenance.push_back("note: " + *c.notes);
}

void code43(const RuleInput&, const GpuInfo* g, std::vector<Finding>& out) {
  if (g->vendor_id != 0x10de || !g->passthrough_target()) return;
  std::vector<std::string> ev{db_evidence(*g)};
  // The wording follows what vm-xml does (gpu::hides_kvm), so the two never disagree.
  switch (g->caps.code43) {
    case gpu::Code43::all_drivers:
      out.push_back(
          {"code-43-risk", Severity::warning, g->gpu.address.str(),
           fmt::format("Known: {} GPUs never got a driver with VM support (their last branch "
                       "predates R465): the Windows GeForce driver stops with Code 43 unless KVM "
                       "is hidden.",
                       g->architecture),
           ev, "exliar vm-xml hides KVM and sets a Hyper-V vendor_id for this GPU."});
      break;
    case gpu::Code43::legacy_drivers:
      out.push_back({"code-43-risk", Severity::info, g->gpu.address.str(),
                     "Known: GeForce Windows drivers before R465 stop with Code 43 in a VM; R465 "
                     "and later support passthrough (exliar vm-xml leaves KVM visible).",
                     ev,
                     "Use driver 465 or later; for an older driver add --legacy-nvidia-driver to "
                     "exliar vm-xml (hides KVM, sets a Hyper-V vendor_id)."});
      break;
    case gpu::Code43::unknown:
      out.push_back({"code-43-risk", Severity::info, g->gpu.address.str(),
                     "Unknown whether this GPU's Windows driver has the Code 43 hypervisor check "
                     "(GeForce drivers before R465 do; Quadro/Tesla never did): test it. exliar "
                     "vm-xml leaves KVM visible.",
                     ev,
                     "If the guest driver reports Code 43, add --legacy-nvidia-driver to exliar "
                     "vm-xml."});
      break;
    default:
      break;
  }
  if (g->muxless)
    out.push_back(
        {"muxless-laptop-gpu",
         Severity::warning,
         g->gpu.address.str(),
         "Muxless laptop dGPU (3D controller): the guest driver reads its VBIOS through "
         "ACPI _ROM and checks for a battery; without both it fails with Code 43.",
         {attr(g->gpu.address, "class") + ": 0x" + hex6(g->class_code)},
         "Provide the VBIOS through a custom ACPI table, a fake battery and the subsystem "
         "IDs (x-pci-sub-vendor-id / x-pci-sub-device-id)."});
}

void vbios(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (!g->passthrough_target()) return;
  auto need = g->caps.vbios_needed;
  if (need == gpu::VbiosNeed::never || (need == gpu::VbiosNeed::boot_gpu && !g->gpu.boot_vga))
    return;
  std::vector<std::string> ev{db_evidence(*g)};
  if (need == gpu::VbiosNeed::legacy_igd) {
    out.push_back({"vbios-legacy-igd", Severity::info, g->gpu.address.str(),
                   "Known: assigned in UPT mode (a secondary display) this iGPU needs no ROM file; "
                   "only QEMU's legacy IGD mode (the VM's primary VGA) needs its VGA ROM and, "
                   "with OVMF, a GOP driver (QEMU docs/igd-assign.txt).",
                   ev,
                   "For legacy mode dump the ROM with `exliar vbios dump " + g->gpu.address.str() +
                       "` and check it."});
    return;
  }
  std::string msg, fix;
  if (need == gpu::VbiosNeed::boot_gpu) {
    ev.push_back(attr(g->gpu.address, "boot_vga") + ": 1");
    msg = "The VM needs a clean VBIOS file: the boot GPU's ROM is altered when the host boots.";
    fix =
        "Dump the ROM while the card is not the boot GPU (or from the vendor's image), check it "
        "with `exliar vbios check`, and give it to the VM.";
  } else if (g->vendor_id == 0x1002 && g->gpu.integrated) {
    ev.push_back(
        fmt::format("{}: {}", paths::kAcpiVfct, in.facts.vfct_present ? "present" : "absent"));
    msg = "An AMD APU iGPU needs its VBIOS from the ACPI VFCT table and a GOP driver for OVMF.";
    fix = in.facts.vfct_present
              ? "Extract it with `exliar vbios dump " + g->gpu.address.str() + "`."
              : "The VFCT table is missing: extract the VBIOS from the firmware image.";
  } else {
    msg =
        "This GPU needs a VBIOS / option ROM file for the VM (legacy IGD assignment needs a "
        "VGA ROM and a GOP driver).";
    fix = "Dump the ROM with `exliar vbios dump " + g->gpu.address.str() + "` and check it.";
  }
  out.push_back({"vbios-needed", Severity::warning, g->gpu.address.str(), msg, ev, fix});
}

void secure_boot(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (in.inv.system.secure_boot != SecureBoot::enabled || !g->passthrough_target()) return;
  if (!(g->caps.has_reset_bug.value_or(false) && g->caps.vendor_reset_supported)) return;
  out.push_back({"secure-boot-out-of-tree",
                 Severity::warning,
                 g->gpu.address.str(),
                 "Secure Boot is on and this GPU needs vendor-reset, an out-of-tree module: the "
                 "kernel refuses it unless it is signed with an enrolled key.",
                 {fmt::format("{}: enabled", paths::kEfiVarSecureBoot), db_evidence(*g)},
                 "Sign the DKMS module with a Machine Owner Key (mokutil --import) or turn Secure "
                 "Boot off."});
}

void driver_bound(const RuleInput&, const GpuInfo* g, std::vector<Finding>& out) {
  if (!g->driver || !g->passthrough_target()) return;
  std::vector<std::string> ev{attr(g->gpu.address, "driver") + " -> " + *g->driver};
  if (*g->driver == "vfio-pci") {
    out.push_back({"bound-to-vfio", Severity::info, g->gpu.address.str(),
                   "The GPU is already bound to vfio-pci.", ev, std::nullopt});
  } else if (is_native(*g->driver)) {
    out.push_back({"native-driver-bound", Severity::info, g->gpu.address.str(),
                   fmt::format("The native driver {} drives this GPU now; vfio-pci takes it at the "
                               "next boot once the plan is applied.",
                               *g->driver),
                   ev, "Runtime `exliar bind` needs everything using the GPU stopped first."});
  }
}

void companions(const RuleInput& in, const GpuInfo* g, std::vector<Finding>& out) {
  if (!g->passthrough_target() || !g->gpu.iommu_group) return;
  auto fns = g->vm_functions();
  for (const auto& c : g->companions) {
    const PciDevice* d = in.inv.find(c.address);
    if (!d || !d->iommu_group || *d->iommu_group == *g->gpu.iommu_group) continue;
    const IommuGroup* grp = in.inv.find_group(*d->iommu_group);
    std::vector<std::string> outsiders;
    for (const auto& m : grp ? grp->devices : std::vector<PciAddress>{}) {
      const PciDevice* md = in.inv.find(m);
      if (std::find(fns.begin(), fns.end(), m) == fns.end() && !(md && md->is_bridge()))
        outsiders.push_back("shares the group: " + label(in.inv, m));
    }
    std::vector<std::string> ev{
        fmt::format("{}: iommu_group {}", attr(c.address, "iommu_group"), *d->iommu_group)};
    if (outsiders.empty()) {
      out.push_back(
          {"companion-own-group", Severity::info, g->gpu.address.str(),
           fmt::format("The GPU's {} function {} is in IOMMU group {}, not the GPU's group {}; "
                       "the VM gets both groups.",
                       gpu::to_string(c.kind), c.address.str(), *d->iommu_group,
                       *g->gpu.iommu_group),
           ev, std::nullopt});
    } else {
      ev.insert(ev.end(), outsiders.begin(), outsiders.end());
      out.push_back(
          {"companion-group-shared", Severity::warning, g->gpu.address.str(),
           fmt::format("The GPU's {} function {} shares IOMMU group {} with other devices; "
                       "it cannot go to the VM alone.",
                       gpu::to_string(c.kind), c.address.str(), *d->iommu_group),
           ev, "Leave that function on the host (the GPU works without it) or free its group."});
    }
  }
}

}  // namespace

void add_gpu_rules(std::vector<Rule>& out) {
  out.push_back({"not-a-passthrough-target", "BMC or emulated display", true, not_target});
  out.push_back({"iommu-group-shared", "group holds other devices", true, group_shared});
  out.push_back({"iommu-group-missing", "no group on an IOMMU host", true, group_missing});
  out.push_back({"only-gpu", "single-GPU host", true, only_gpu});
  out.push_back({"boot-gpu", "boot VGA device", true, boot_gpu});
  out.push_back({"reset-bug", "reset bug / vendor-reset coverage", true, reset});
  out.push_back({"code-43-risk", "NVIDIA Code 43, muxless laptops", true, code43});
  out.push_back({"vbios-needed", "VBIOS file needed", true, vbios});
  out.push_back({"secure-boot-out-of-tree", "Secure Boot vs vendor-reset", true, secure_boot});
  out.push_back({"native-driver-bound", "driver bound now", true, driver_bound});
  out.push_back({"companion-group", "companion functions in other groups", true, companions});
  out.push_back({"unknown-gpu", "not in the database", true, unknown});
}

}  // namespace exliar::analyze
