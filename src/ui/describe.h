// Short human labels for inventory values, shared by every text view.
#pragma once

#include <string>

#include "probe/inventory.h"

namespace exliar::ui {

/// "NVIDIA Corporation GP108 [GeForce GT 1030] [10de:1d01]", or "[10de:1d01]" without names.
std::string device_label(const PciDevice& d);
/// "isolated", "shared with 0000:00:14.0, ...", "no IOMMU".
std::string isolation_label(const Gpu& g);

}  // namespace exliar::ui
