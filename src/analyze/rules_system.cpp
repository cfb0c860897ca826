// Rules about the host as a whole (subject "system").
#include <fmt/format.h>

#include "analyze/findings.h"
#include "gpu/kver.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::analyze {

namespace {

std::string cmdline_evidence(const Inventory& inv) {
  return fmt::format("{}: {}", paths::kProcCmdline,
                     inv.system.cmdline ? std::string(trim(*inv.system.cmdline)) : "(unreadable)");
}

bool has_token(const std::vector<std::string>& toks, std::string_view t) {
  for (const auto& x : toks)
    if (x == t) return true;
  return false;
}

void no_gpu(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  if (!in.gpus.empty()) return;
  out.push_back({"no-gpu",
                 Severity::error,
                 "system",
                 "No GPU found: no PCI function of display class (03xx) or AMD accelerator "
                 "class (1200) on this system.",
                 {fmt::format("{}: {} PCI functions, none of class 03xx", paths::kPciDevices,
                              in.inv.devices.size())},
                 "Nothing to pass through. If a GPU is installed, check that it is seated and "
                 "enabled in the firmware setup."});
}

void iommu_inactive(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  const System& s = in.inv.system;
  if (s.iommu.active) return;
  std::vector<std::string> ev = {fmt::format("{}: no IOMMU groups", paths::kIommuGroups),
                                 cmdline_evidence(in.inv)};
  std::string fix;
  const auto& toks = s.iommu.cmdline;
  if (has_token(toks, "intel_iommu=off") || has_token(toks, "amd_iommu=off") ||
      has_token(toks, "iommu=off"))
    fix = "Remove the IOMMU \"off\" parameter from the kernel command line. ";
  if (s.cpu.vendor == CpuVendor::intel) {
    fix +=
        "Enable VT-d in the firmware setup and add intel_iommu=on to the kernel command line "
        "(many distribution kernels do not turn the Intel IOMMU on by default).";
  } else if (s.cpu.vendor == CpuVendor::amd) {
    fix +=
        "Enable the IOMMU (AMD-Vi, often called \"IOMMU\" or \"SVM/IOMMU\") in the firmware "
        "setup. No kernel parameter is needed: the AMD IOMMU is on by default, and "
        "amd_iommu=on is not a valid value (it does nothing).";
    if (has_token(toks, "amd_iommu=on"))
      ev.push_back(
          "amd_iommu=on is on the command line but is not a valid value: the IOMMU is "
          "off in the firmware or absent");
  } else {
    fix +=
        "Enable the IOMMU in the firmware setup (VT-d on Intel, AMD-Vi on AMD); Intel also "
        "needs intel_iommu=on on most distribution kernels.";
  }
  out.push_back({"iommu-inactive", Severity::error, "system",
                 "The IOMMU is not active: the kernel created no IOMMU groups, so no device can "
                 "be given to a VM.",
                 ev, fix});
}

void cpu_virt(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  const Cpu& c = in.inv.system.cpu;
  if (c.virtualization != Virtualization::none) return;
  std::string msg =
      "The CPU shows no hardware virtualization flag (vmx for Intel VT-x, svm for "
      "AMD-V): KVM cannot run VMs.";
  std::string fix = "Enable VT-x / SVM (\"Virtualization Technology\") in the firmware setup.";
  if (c.hypervisor) {
    msg += " This system is itself a virtual machine.";
    fix = "Run exliar on the physical host, or enable nested virtualization for this VM.";
  }
  out.push_back({"cpu-virtualization-missing",
                 Severity::error,
                 "system",
                 msg,
                 {fmt::format("{}: flags contain neither vmx nor svm{}", paths::kProcCpuinfo,
                              c.hypervisor ? " (hypervisor flag present)" : "")},
                 fix});
}

void virqfd(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  if (in.facts.vfio_virqfd.empty() || !in.inv.system.kernel) return;
  auto kv = gpu::parse_kernel_version(*in.inv.system.kernel);
  // vfio_virqfd was folded into vfio in 6.2; naming it breaks dracut/mkinitcpio builds
  // (GPU-Passthrough-Manager#40, passthrough_helper_fedora#2).
  if (!kv || *kv < gpu::KernelVersion{6, 2}) return;
  std::vector<std::string> ev{fmt::format("{}: {}", paths::kProcOsRelease, *in.inv.system.kernel)};
  for (const auto& m : in.facts.vfio_virqfd)
    ev.push_back(fmt::format("{}:{}: {}", m.path, m.line, m.text));
  out.push_back({"vfio-virqfd-removed", Severity::error, "system",
                 "vfio_virqfd is requested, but it no longer exists as a module since Linux 6.2 "
                 "(merged into vfio): initramfs builds fail or the module load errors at boot.",
                 ev,
                 "Remove vfio_virqfd from the files listed; vfio, vfio_pci and "
                 "vfio_iommu_type1 are enough."});
}

void driver_override(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  if (!in.inv.system.kernel) return;
  auto kv = gpu::parse_kernel_version(*in.inv.system.kernel);
  // PCI driver_override appeared in Linux 3.16 [UNCERTAIN exact version, gpu-knowledge 6.2].
  if (!kv || *kv >= gpu::KernelVersion{3, 16}) return;
  out.push_back({"kernel-too-old",
                 Severity::error,
                 "system",
                 "This kernel predates PCI driver_override (Linux 3.16): exliar cannot bind a "
                 "device to vfio-pci by address.",
                 {fmt::format("{}: {}", paths::kProcOsRelease, *in.inv.system.kernel)},
                 "Boot a current kernel (5.15 or later recommended)."});
}

void acs_override(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  for (const auto& t : in.inv.system.iommu.cmdline) {
    if (t.rfind("pcie_acs_override=", 0) != 0 && t.rfind("pci_acs_override=", 0) != 0) continue;
    // The patch makes the kernel pretend ports isolate devices (gpu-knowledge.md 6.4).
    out.push_back(
        {"acs-override-active",
         Severity::warning,
         "system",
         "The ACS override is on: the IOMMU groups shown are split by a kernel patch, not "
         "by the hardware, so devices in different groups may still reach each other by DMA.",
         {cmdline_evidence(in.inv)},
         "Accept the weaker isolation knowingly, or remove " + t +
             " and use a slot whose group is isolated by the hardware."});
    return;
  }
}

void in_vm(const RuleInput& in, const gpu::GpuInfo*, std::vector<Finding>& out) {
  if (!in.inv.system.cpu.hypervisor) return;
  out.push_back({"running-in-vm",
                 Severity::info,
                 "system",
                 "exliar runs inside a virtual machine; its GPUs are probably emulated.",
                 {fmt::format("{}: hypervisor flag present", paths::kProcCpuinfo)},
                 std::nullopt});
}

}  // namespace

void add_system_rules(std::vector<Rule>& out) {
  out.push_back({"no-gpu", "no display-class PCI function", false, no_gpu});
  out.push_back({"iommu-inactive", "IOMMU off (with the right parameter per CPU vendor)", false,
                 iommu_inactive});
  out.push_back({"cpu-virtualization-missing", "no vmx/svm flag", false, cpu_virt});
  out.push_back({"vfio-virqfd-removed", "vfio_virqfd requested on kernel >= 6.2", false, virqfd});
  out.push_back({"kernel-too-old", "kernel without PCI driver_override", false, driver_override});
  out.push_back(
      {"acs-override-active", "pcie_acs_override on the command line", false, acs_override});
  out.push_back({"running-in-vm", "exliar runs in a guest", false, in_vm});
}

}  // namespace exliar::analyze
