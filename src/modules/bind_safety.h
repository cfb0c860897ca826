// Why a runtime bind could hurt the host: the group holds the boot GPU while it drives the
// console, a storage controller with mounted filesystems, or the network device of the
// default route. Each reason is a sentence for the user; `--force` overrides them.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// Interface names of the default routes (destination and mask 0) in /proc/net/route.
std::vector<std::string> parse_default_route_ifaces(std::string_view route);
/// Mount sources of /proc/mounts (first field, octal escapes decoded).
std::set<std::string> parse_mount_sources(std::string_view mounts);

/// Every reason not to take the given devices from the host now; empty = safe.
std::vector<std::string> bind_refusals(const Fs& fs, const std::vector<const PciDevice*>& devices);

}  // namespace exliar
