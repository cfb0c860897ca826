// `exliar vm-hook`: hand a configured VM's GPU to vfio-pci when it starts and give it back
// when it stops. prepare() first decides (refusals change nothing), then runs the steps of
// plan_prepare() one by one, each recorded in the session file before and after it runs;
// a failing step undoes the ones before it, newest first. release() undoes what the
// session file records and is a no-op without one.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "dynamic/session.h"
#include "dynamic/vm_config.h"
#include "host/context.h"
#include "probe/inventory.h"

namespace exliar::dynamic {

/// What libvirt or Proxmox asked: libvirt calls `qemu NAME OP SUBOP EXTRA` (prepare begin,
/// release end, ...; https://libvirt.org/hooks.html "Script arguments"), Proxmox calls
/// `hookscript VMID PHASE` (pre-start, post-start, pre-stop, post-stop; pve-docs qm.adoc
/// "Hookscripts").
enum class HookAction { none, prepare, release };
HookAction classify_hook_call(const std::vector<std::string>& args);

struct HookOptions {
  /// Run the commands (systemctl, rmmod, modprobe) through ctx.runner. Off for --root
  /// other than "/", where they are only listed (never executed on the host).
  bool run_commands = true;
  /// How long to wait for the display manager's processes to let go of the GPU.
  std::chrono::milliseconds holder_wait{5000};
};

/// The steps prepare would take, before any runs: refuses (nothing changed) when the GPU
/// is not there, its IOMMU group is not isolated, or the VM already holds it.
Result<std::vector<HookStep>> plan_prepare(const Fs& fs, const Inventory& inv, const VmConfig& c);

struct HookResult {
  Session session;                     ///< as recorded (prepare: the steps taken)
  std::vector<std::string> notes;      ///< things the user should know (warnings)
  std::vector<std::string> would_run;  ///< commands listed, not run (run_commands off)
};

/// Runs prepare. On failure the error says which step failed and that the steps before
/// it were undone (or which undo failed, and how to recover).
Result<HookResult> prepare_vm(Context& ctx, const VmConfig& c, const HookOptions& o = {});
/// Undoes the recorded steps. nullopt session = nothing was prepared (nothing to do).
Result<std::optional<HookResult>> release_vm(Context& ctx, const std::string& vm,
                                             const HookOptions& o = {});

}  // namespace exliar::dynamic
