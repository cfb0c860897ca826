// What happens after a plan is applied: does it need a reboot, and why. Shared by the CLI
// (`apply` prints it) and the terminal UI (its result screen), so they never disagree.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"

namespace exliar {

struct AfterApply {
  bool reboot = false;
  std::string why;                   ///< one sentence
  std::vector<std::string> changed;  ///< edited paths and commands, in plan order
};

/// File edits (kernel command line, module options, initramfs configuration) and
/// regeneration commands act at the next boot; runtime sysfs writes act at once.
AfterApply after_apply(const Plan& plan);

/// The regeneration commands of a plan (initramfs and boot loader tools; `modprobe` loads
/// a module and is not one), in plan order. The backends plan each once per plan, covering
/// every installed kernel (update-initramfs -k all, dracut --regenerate-all, mkinitcpio -P),
/// and apply runs them after every file is written; `plan` prints how many there are.
std::vector<const RunCommand*> regenerations(const Plan& plan);

/// The one-line label of a step, as progress and the UI show it ("edit /etc/default/grub",
/// "run update-initramfs -u -k all", "write vfio-pci to /sys/.../driver_override").
std::string step_label(const Step& s);

}  // namespace exliar
