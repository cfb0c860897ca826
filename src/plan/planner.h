// Intent -> Plan: asks the GPU handlers, the modules backend and the boot backend for their
// steps, in that order. Writes nothing: the Plan is executed by the transaction engine.
#pragma once

#include <string>
#include <vector>

#include "gpu/db.h"
#include "host/fs.h"
#include "plan/plan.h"
#include "probe/inventory.h"

namespace exliar {

struct PlanRequest {
  std::string gpu = "auto";  ///< an address, or "auto"
  std::string bind;          ///< "ids", "address" or "" (choose)
  bool acs_override = false;
  bool no_initramfs = false;
  std::vector<std::string> extra_params;
  std::string rom;
};

/// Builds the plan that makes vfio-pci own the chosen GPU's functions from the next boot.
/// Refuses (with the reason and what to do) when the target is not a passable GPU.
Result<Plan> make_plan(const PlanRequest& req, const Inventory& inv, const Fs& fs,
                       const gpu::GpuDb& db);

}  // namespace exliar
