#pragma once

#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// The groups of /sys/kernel/iommu_groups with their PCI members: from the devices'
/// iommu_group links when scan_complete (every listed function was read), else, and for a
/// group no device links to, from the group's devices/ directory. Group directories
/// without devices are kept (empty) and noted; entries that are not PCI addresses are
/// ignored.
std::vector<IommuGroup> scan_iommu_groups(const Fs& fs, const std::vector<PciDevice>& devices,
                                          bool scan_complete, std::vector<ProbeNote>& notes);

/// GPUs per the contract in DESIGN.md §4: the lowest display-class function of each slot;
/// functions = all functions of the slot; isolation from the group's other members
/// (bridges do not count).
std::vector<Gpu> find_gpus(const std::vector<PciDevice>& devices,
                           const std::vector<IommuGroup>& groups, bool iommu_active);

}  // namespace exliar
