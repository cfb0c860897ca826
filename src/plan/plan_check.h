// A plan read from a file (`apply --from PLAN`) is untrusted input: what exliar's own planner
// could have produced is the only thing it may contain.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "host/error.h"
#include "host/fs.h"
#include "plan/plan.h"

namespace exliar {

/// Every step must stay inside what its kind may touch: file edits only on the files a
/// backend owns, sysfs writes only on the PCI driver-binding attributes under /sys/bus/pci,
/// commands only the regeneration tools exliar plans. `where` names the plan file.
Status check_plan_targets(const Plan& plan, const std::string& where);

/// The plan file itself: owned by root or by `euid`, not writable by group or others, in
/// directories nobody else may rename it in (as for plugins, with sticky /tmp allowed).
Status check_plan_file(const Fs& host, std::string_view path, uid_t euid);

/// True when path is an absolute path with no NUL and no empty, "." or ".." component.
bool plain_absolute_path(std::string_view path);

}  // namespace exliar
