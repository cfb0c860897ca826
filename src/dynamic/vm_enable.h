// `exliar vm enable/disable`: the per-VM configuration and the one dispatcher hook that
// libvirt (/etc/libvirt/hooks/qemu.d/exliar) or Proxmox (a snippet used as hookscript)
// calls, as a Plan of file edits that the transaction engine applies and rolls back.
// Nothing is bound at boot in this mode; nothing outside exliar's own files is touched.
#pragma once

#include <string>
#include <vector>

#include "dynamic/vm_config.h"
#include "host/fs.h"
#include "plan/plan.h"
#include "probe/inventory.h"

namespace exliar::dynamic {

/// The dispatcher: a POSIX sh script that exits 0 at once for VMs exliar does not manage
/// and otherwise execs `<exe> vm-hook` with the hypervisor's arguments and stdin.
std::string dispatcher_script(Hypervisor h, const std::string& exe);
std::string dispatcher_path(Hypervisor h);

struct EnableRequest {
  std::string name;
  std::string gpu;  ///< address as typed
  bool single_gpu = false;
  std::string hypervisor;       ///< "libvirt", "proxmox" or "auto"
  std::string display_manager;  ///< "" = detect when the VM starts
  std::vector<std::string> unload_modules;
  std::string exe;  ///< absolute path of the exliar binary, for the dispatcher
};

struct EnablePlan {
  Plan plan;
  VmConfig config;
  std::vector<std::string> next_steps;  ///< what the user does after (restart libvirtd, qm set)
};

/// Refuses (nothing changed) a bad name, an unknown or non-isolated GPU, a VM already
/// enabled, or a foreign file where exliar's dispatcher goes.
Result<EnablePlan> plan_vm_enable(const Fs& fs, const Inventory& inv, const EnableRequest& r);
/// Removes the VM's config, and the dispatcher when no other VM of that hypervisor uses
/// it. Refuses while the VM holds its GPU.
Result<Plan> plan_vm_disable(const Fs& fs, const std::string& name);

/// Every /etc/exliar/vms/*.json; a broken file is an error naming it.
Result<std::vector<VmConfig>> list_vm_configs(const Fs& fs);

}  // namespace exliar::dynamic
