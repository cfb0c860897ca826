// Which kernel parameters exliar manages, and how an add/remove request becomes an edit
// of a Cmdline (comma lists are merged, not duplicated).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/cmdline.h"
#include "host/error.h"
#include "probe/inventory.h"

namespace exliar::boot {

/// One requested change. `remove` of "key=" removes every token with that key.
struct ParamEdit {
  enum class Op { add, remove };
  Op op = Op::add;
  std::string param;
  bool operator==(const ParamEdit&) const = default;
};

/// Keys whose value is a comma list that exliar merges into ("vfio-pci.ids=a,b" + "c").
bool is_list_key(std::string_view key);

/// Applies one edit; returns whether the text changed.
Result<bool> apply_edit(Cmdline& c, const ParamEdit& e);
/// Applies edits in order; returns the edits that changed something (the ones whose
/// reverse gives back the original bytes).
Result<std::vector<ParamEdit>> apply_edits(Cmdline& c, const std::vector<ParamEdit>& edits);
/// The reverse of edits that changed something: add <-> remove, in reverse order.
std::vector<ParamEdit> reverse_edits(const std::vector<ParamEdit>& applied);

enum class FramebufferQuirk { none, efifb, sysfb, automatic };

/// What the planner knows when it asks for the boot parameters.
struct ManagedParamsInput {
  CpuVendor cpu = CpuVendor::unknown;
  Initramfs initramfs = Initramfs::unknown;
  std::vector<std::string> ids;  ///< "10de:1b80"; empty when binding by address
  bool iommu_pt = true;
  bool acs_override = false;  ///< opt-in: needs a patched kernel
  std::string acs_value = "downstream,multifunction";
  /// Release the firmware framebuffer of the boot GPU. `automatic` picks by kernel:
  /// sysfb (>= 5.15) or efifb.
  FramebufferQuirk framebuffer = FramebufferQuirk::none;
  std::optional<std::string> kernel;  ///< target kernel release, for `automatic`
  std::vector<std::string> extras;    ///< user-given, validated by check_param
};

/// The parameters to add, in a stable order. Fails on an invalid extra or id.
Result<std::vector<std::string>> managed_params(const ManagedParamsInput& in);
/// Every add as a ParamEdit.
std::vector<ParamEdit> add_edits(const std::vector<std::string>& params);

}  // namespace exliar::boot
