// Classification: which PCI functions are GPUs, what the database knows about each, and
// which functions travel with it (HD audio, USB-C xHCI, UCSI).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gpu/db.h"
#include "probe/inventory.h"

namespace exliar::gpu {

enum class CompanionKind { audio, usb, ucsi, other };
const char* to_string(CompanionKind);

struct Companion {
  PciAddress address;
  CompanionKind kind = CompanionKind::other;
  bool same_slot = true;  ///< false for Arc-style layouts (audio behind another switch port)
};

/// One GPU with its verdict inputs: the probe's Gpu plus what the database says.
struct GpuInfo {
  Gpu gpu;  ///< probe's view (synthesised the same way for AMD class-1200 functions)
  std::uint16_t vendor_id = 0, device_id = 0;
  std::optional<std::uint8_t> revision;
  std::uint32_t class_code = 0;
  std::optional<std::string> driver;  ///< bound to the GPU function now

  bool known = false;  ///< an entry (exact or range) matched
  MatchKind match = MatchKind::unknown_vendor;
  std::string vendor_name;  ///< "AMD/ATI", or "vendor 1a2b"
  std::string codename, architecture, generation;
  std::string role = "gpu";  ///< "gpu", "bmc", "virtual"
  std::string name;          ///< "AMD/ATI Polaris 11 (Baffin), GCN4" or "unknown AMD/ATI GPU"
  GpuCaps caps;              ///< entry's, or the vendor's defaults
  std::string db_source;     ///< "amd.json entry 12" / "amd.json vendor defaults"

  std::vector<Companion> companions;          ///< never counted as GPUs
  std::optional<PciAddress> switch_upstream;  ///< GPU behind its own PCIe switch (Navi, Arc)
  /// 3D controller (0302) next to another GPU: an Optimus-style muxless laptop dGPU.
  bool muxless = false;

  bool passthrough_target() const { return role == "gpu"; }
  /// Every function the VM must get: the GPU, then its companions.
  std::vector<PciAddress> vm_functions() const;
};

/// Is this a display function exliar treats as a GPU (03xx, and AMD 0x1200 accelerators)?
bool is_gpu_function(const PciDevice& d);

/// Classifies every GPU of the inventory, sorted by address.
std::vector<GpuInfo> classify(const Inventory& inv, const GpuDb& db);

}  // namespace exliar::gpu
