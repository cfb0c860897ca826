#pragma once

#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// Reads /sys/kernel/iommu_groups/*/devices. Group directories without devices are kept
/// (empty) and noted; entries that are not PCI addresses are ignored.
std::vector<IommuGroup> scan_iommu_groups(const Fs& fs, std::vector<ProbeNote>& notes);

/// GPUs per the contract in DESIGN.md §4: the lowest display-class function of each slot;
/// functions = all functions of the slot; isolation from the group's other members
/// (bridges do not count).
std::vector<Gpu> find_gpus(const std::vector<PciDevice>& devices,
                           const std::vector<IommuGroup>& groups, bool iommu_active);

}  // namespace exliar
