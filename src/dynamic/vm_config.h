// Dynamic passthrough's per-VM configuration: /etc/exliar/vms/<name>.json, written by
// `exliar vm enable` and read by `exliar vm-hook` each time the VM starts or stops.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"
#include "probe/inventory.h"

namespace exliar::dynamic {

enum class Hypervisor { libvirt, proxmox };
const char* to_string(Hypervisor);

struct VmConfig {
  std::string name;  ///< libvirt domain name, or the Proxmox VMID
  PciAddress gpu;
  std::vector<PciAddress> functions;  ///< every function of the GPU's slot
  /// The host's only (or active) GPU: stop the display manager, release consoles and
  /// framebuffers and unload the driver before binding, and undo all that after.
  bool single_gpu = false;
  Hypervisor hypervisor = Hypervisor::libvirt;
  /// Service to stop (single-GPU); nullopt = detect at VM start (systemd's
  /// display-manager.service alias, OpenRC's display-manager).
  std::optional<std::string> display_manager;
  /// Driver modules to unload (single-GPU), besides the GPU's own driver and its holders
  /// found at VM start; in the order given.
  std::vector<std::string> unload_modules;
  bool operator==(const VmConfig&) const = default;
};

/// Names that are safe as a file name and match what libvirt and Proxmox allow:
/// [A-Za-z0-9_.+-], 1-64 characters, not starting with '.' or '-'.
bool valid_vm_name(std::string_view name);
/// /etc/exliar/vms/<name>.json (name must be valid).
std::string vm_config_path(std::string_view name);

std::string format_vm_config(const VmConfig& c);
/// The file is untrusted: every problem names the file (and the line for bad JSON).
Result<VmConfig> parse_vm_config(std::string_view text, std::string_view path);

}  // namespace exliar::dynamic
