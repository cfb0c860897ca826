// Which VFIO-related modules each installed kernel has, and which are built in.
// The target kernels are every directory of /lib/modules, not only the running one: the
// initramfs of each of them must hold vfio (peer-tools.md §5.26-27).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"
#include "host/fs.h"

namespace exliar {

/// The modules exliar cares about, in the order they must load: vendor_reset before
/// vfio_pci (vendor-reset README), vfio_pci before every native GPU driver.
inline constexpr std::string_view kVfioModules[] = {
    "vendor_reset", "vfio", "vfio_iommu_type1", "vfio_virqfd", "vfio_pci_core", "vfio_pci", "kvmfr",
};

enum class ModuleState { absent, module, builtin };
const char* to_string(ModuleState);

struct KernelModules {
  std::string version;  ///< directory name under /lib/modules ("6.1.0-13-amd64")
  std::optional<std::pair<int, int>> major_minor;  ///< parsed from version
  bool have_index = false;  ///< modules.dep was readable (else states come from the version)
  std::map<std::string, ModuleState> modules;  ///< every name of kVfioModules
  std::optional<bool> vfio_pci_vga;            ///< CONFIG_VFIO_PCI_VGA from /boot/config-<ver>

  ModuleState state(std::string_view name) const;
  bool available(std::string_view name) const { return state(name) != ModuleState::absent; }
  /// A built-in vfio-pci ignores modprobe options: it needs `vfio-pci.ids=` on the kernel
  /// command line (Documentation/admin-guide/kernel-parameters.rst, module parameters).
  bool vfio_pci_builtin() const { return state("vfio_pci") == ModuleState::builtin; }
};

/// "kernel/drivers/vfio/pci/vfio-pci.ko.zst" -> "vfio_pci" (kmod treats '-' and '_' alike).
std::string module_name_from_path(std::string_view path);
std::string normalize_module_name(std::string_view name);
/// Module names listed in modules.dep (the part before each ':').
std::set<std::string> parse_modules_dep(std::string_view text);
/// Module names listed in modules.builtin (one path per line).
std::set<std::string> parse_modules_builtin(std::string_view text);
/// "6.1.0-13-amd64" -> {6, 1}; nullopt when the name does not start with N.N.
std::optional<std::pair<int, int>> parse_kernel_version(std::string_view v);
/// CONFIG_VFIO_PCI_VGA in a kernel .config text: true (=y), false (not set), nullopt.
std::optional<bool> parse_config_vfio_pci_vga(std::string_view config);

/// Every kernel under /lib/modules (or /usr/lib/modules), sorted by name. A kernel whose
/// modules.dep is missing is kept with have_index=false and states guessed from the
/// version (vfio_virqfd merged into vfio in 6.2, vfio_pci_core split out in 5.16).
Result<std::vector<KernelModules>> scan_kernel_modules(const Fs& fs);

}  // namespace exliar
