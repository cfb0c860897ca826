// Vendor handlers: what one GPU vendor needs before, during and after binding to
// vfio-pci. Handlers return plain data; the modules and boot backends turn it into Steps
// (softdep lines, modules-load entries, kernel parameters, udev rules).
#pragma once

#include <string>
#include <vector>

#include "gpu/classify.h"
#include "gpu/vm_snippets.h"
#include "probe/inventory.h"

namespace exliar::gpu {

struct KernelParam {
  std::string param;   ///< "initcall_blacklist=sysfb_init"
  std::string reason;  ///< for the user
};

struct ResetMethodSetting {
  PciAddress address;
  std::string method;  ///< written to /sys/bus/pci/devices/<addr>/reset_method
  std::string reason;
};

/// What must be true before vfio-pci can claim the GPU's functions.
struct Preparation {
  /// Modules that could grab a function first: each gets `softdep <name> pre: vfio-pci`.
  std::vector<std::string> softdep_drivers;
  /// Modules to load before vfio-pci (e.g. vendor-reset, which must hook early).
  std::vector<std::string> early_modules;
  /// Subset of early_modules that are out of tree (DKMS; must be signed under Secure Boot).
  std::vector<std::string> out_of_tree_modules;
  std::vector<ResetMethodSetting> reset_methods;
  std::vector<std::string> notes;
};

/// Something to verify after the reboot: `path` should read `expect`.
struct PostCheck {
  std::string id;
  std::string description;
  std::string path;    ///< host path (sysfs attribute or symlink)
  std::string expect;  ///< exact content, or the basename of a symlink target
  bool is_link = false;
};

class VendorHandler {
 public:
  virtual ~VendorHandler() = default;
  virtual const char* name() const = 0;
  /// Is this handler responsible for the GPU?
  virtual bool detect(const GpuInfo& g) const = 0;
  virtual Preparation prepare(const GpuInfo& g, const Inventory& inv) const;
  /// Kernel parameters that apply to this GPU on this host (none when nothing applies).
  virtual std::vector<KernelParam> apply_quirks(const GpuInfo& g, const Inventory& inv) const;
  virtual VmSnippets vm_snippets(const GpuInfo& g, const VmSnippetOptions& o = {}) const;
  virtual std::vector<PostCheck> post_checks(const GpuInfo& g) const;
};

/// The handler for g: AMD, NVIDIA, Intel, or a generic one for other vendors.
const VendorHandler& handler_for(const GpuInfo& g);

/// Does vm-xml hide KVM for this GPU? The one decision `check` (code-43-risk) and `vm-xml`
/// share, so they cannot disagree: always when every driver of the GPU predates R465, with
/// --legacy-nvidia-driver for GeForce GPUs (and unknown NVIDIA IDs), never for pro parts.
bool hides_kvm(const GpuInfo& g, const VmSnippetOptions& o);

/// Native drivers of the companion functions (snd_hda_intel, xhci_pci, UCSI drivers).
std::vector<std::string> companion_drivers(const GpuInfo& g);

}  // namespace exliar::gpu
