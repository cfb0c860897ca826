// The modules stage of a plan: which files and commands make vfio-pci own the passed
// functions from boot on, for every installed kernel. The planner calls plan_vfio_modules().
#pragma once

#include <string>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "modules/kernel_modules.h"
#include "plan/step.h"
#include "probe/inventory.h"

namespace exliar {

enum class BindMode { ids, address };

struct VfioRequest {
  std::vector<std::string> ids;             ///< "10de:1b81" of every passed function (ids mode)
  std::vector<PciAddress> addresses;        ///< every passed function
  std::vector<std::string> native_drivers;  ///< drivers (or modules) that would bind them
  BindMode mode = BindMode::ids;
  bool no_initramfs = false;  ///< leave the initramfs alone (modprobe.d/modules-load.d only)
  bool disable_vga = false;   ///< wanted; applied only where it means something (see .cpp)
  bool vendor_reset = false;  ///< load vendor-reset before vfio-pci
  bool kvmfr = false;         ///< load kvmfr (Looking Glass) at boot
};

struct VfioModulesPlan {
  std::vector<Step> steps;
  std::vector<std::string> warnings;
  /// Kernel command-line tokens the boot stage must add: `vfio-pci.ids=...` when some
  /// installed kernel has vfio-pci built in (module options never reach it).
  std::vector<std::string> kernel_params;
  std::vector<std::string> builtin_vfio_pci_kernels;  ///< versions with vfio-pci built in
  std::vector<KernelModules> kernels;
  std::vector<std::string> early_modules;  ///< loaded from the initramfs, in order
};

Result<VfioModulesPlan> plan_vfio_modules(const Fs& fs, const Inventory& inv,
                                          const VfioRequest& req);
/// Just the steps, for callers that need nothing else.
Result<std::vector<Step>> vfio_module_steps(const Fs& fs, const Inventory& inv,
                                            const VfioRequest& req);

/// The module behind a PCI driver name: /sys/bus/pci/drivers/<d>/module when present,
/// else a table of the known differences (xhci_hcd -> xhci_pci, nvidia-gpu ->
/// i2c_nvidia_gpu), else the name itself; '-' becomes '_'.
std::string module_for_driver(const Fs& fs, std::string_view driver);

}  // namespace exliar
