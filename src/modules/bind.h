// Runtime bind/unbind: moves every non-bridge device of an IOMMU group to vfio-pci now, and
// back to the drivers it had. Both produce a Plan of WriteSysfs steps whose undo values
// restore the previous state when run_transaction() rolls back, so a failure midway gives
// every device its driver back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "plan/plan.h"
#include "probe/inventory.h"

namespace exliar {

inline constexpr std::string_view kVfioPciDriver = "vfio-pci";

/// What `bind` saved for one device, so `unbind` can give it back.
struct SavedBinding {
  PciAddress address;
  std::optional<std::string> driver;    ///< driver bound before, nullopt = none
  std::optional<std::string> override;  ///< driver_override before, nullopt = "(null)"
  bool operator==(const SavedBinding&) const = default;
};

/// State file text: "0000:01:00.0 nouveau -\n" (driver, override; "-" = none).
std::string format_bind_state(const std::vector<SavedBinding>& s);
/// Parses it back; a malformed line is an error naming path and line.
Result<std::vector<SavedBinding>> parse_bind_state(std::string_view text, std::string_view path);
/// /var/lib/exliar/bind/group-<id>
std::string bind_state_path(int group);

struct BindOutcome {
  Plan plan;
  /// Driver every moved device must have once the plan ran ("" = none); checked after.
  std::vector<std::pair<PciAddress, std::string>> expect;
  std::vector<std::string> refusals;  ///< reasons overridden by --force (empty otherwise)
};

/// Moves the group of `addr` to vfio-pci. Refuses (error listing every reason) when the
/// group holds the boot GPU with an active console, a storage controller with mounted
/// filesystems or the default route's network device, unless force.
Result<BindOutcome> plan_bind(const Fs& fs, const Inventory& inv, std::string_view addr,
                              bool force);
/// Gives the group of `addr` back to the drivers saved by plan_bind (without saved state:
/// clears driver_override and lets the kernel probe the native driver).
Result<BindOutcome> plan_unbind(const Fs& fs, const Inventory& inv, std::string_view addr);

/// Devices whose current driver differs from the expectation, as sentences.
std::vector<std::string> check_drivers(
    const Fs& fs, const std::vector<std::pair<PciAddress, std::string>>& expect);

}  // namespace exliar
