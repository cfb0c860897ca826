#pragma once

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// The whole probe stage: system, PCI devices with names, IOMMU groups, GPUs.
Inventory probe(const Fs& fs);

}  // namespace exliar
