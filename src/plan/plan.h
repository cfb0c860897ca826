// A Plan: the Intent that produced it and the ordered Steps that realise it.
#pragma once

#include <string>
#include <vector>

#include "plan/step.h"

namespace exliar {

/// What the user asked for; recorded in the journal with the plan.
struct Intent {
  std::string command;    ///< "apply", "boot add", "boot remove", "bind", "unbind"
  std::string gpu;        ///< resolved address, or "" when not GPU-related
  std::string bind_mode;  ///< "ids" or "address"
  bool acs_override = false;
  bool no_initramfs = false;
  std::vector<std::string> extra_params;
  std::vector<std::string> params;  ///< boot add/remove
  std::string rom;
  bool operator==(const Intent&) const = default;
};

struct Plan {
  Intent intent;
  std::vector<Step> steps;
  std::vector<std::string> warnings;  ///< shown before confirmation
  /// What the running system shows once the plan is in effect (after a reboot for boot
  /// changes); `exliar status` compares these with /proc/cmdline and the bound drivers.
  std::vector<std::string> expect_cmdline;  ///< tokens that /proc/cmdline should contain
  std::vector<std::string> expect_vfio;     ///< PCI addresses that vfio-pci should drive
  bool operator==(const Plan&) const = default;
};

}  // namespace exliar
