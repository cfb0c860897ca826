#pragma once

#include <string>
#include <vector>

#include "analyze/findings.h"
#include "gpu/classify.h"

namespace exliar {

/// The GPU named by `want` (an address of any of its functions), or for "auto" the one
/// GPU that is not the boot GPU and has no blocking finding of its own.
Result<const gpu::GpuInfo*> choose_target(const std::string& want,
                                          const std::vector<gpu::GpuInfo>& gpus,
                                          const Inventory& inv, const analyze::Report& report);

}  // namespace exliar
