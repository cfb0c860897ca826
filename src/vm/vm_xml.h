// VM configuration for one passed-through GPU: libvirt <hostdev> entries (a fragment or a
// patched domain), QEMU -device arguments, and a lint of an existing domain. Everything here
// is a pure function of values; XML is built and parsed with pugixml, never pasted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/vm_snippets.h"
#include "host/error.h"
#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar::gpu {
class GpuDb;
}

namespace exliar::vm {

/// One host function handed to the guest. Its guest function number is the host one.
struct PassFunction {
  PciAddress host;
  std::uint16_t vendor_id = 0, device_id = 0;
  std::uint32_t class_code = 0;
};

/// Everything the generators need about one GPU.
struct Passthrough {
  PciAddress gpu;
  std::vector<PassFunction> functions;  ///< every function of the slot, ascending
  VmSnippets snippets;                  ///< rom_file already chosen (--rom wins)
};

/// Gpu + devices + snippets -> Passthrough. rom_override (from --rom) replaces the
/// snippets' ROM. Fails on a Hyper-V vendor_id libvirt would refuse (over 12 characters
/// or with a comma: domaincommon.rng, hyperv vendor_id pattern "[^,]{0,12}").
Result<Passthrough> make_passthrough(const Gpu& gpu, const std::vector<PciDevice>& devices,
                                     const VmSnippets& snippets,
                                     const std::optional<std::string>& rom_override = {});

/// What the GPU database and the vendor handler (src/gpu/vendor) say the guest needs for
/// this GPU; empty snippets when the database does not know it.
VmSnippets vendor_snippets(const Inventory& inv, const Gpu& gpu, const gpu::GpuDb& db,
                           const VmSnippetOptions& o = {});

/// The guest PCI slot that holds all functions.
struct GuestSlot {
  std::uint32_t domain = 0, bus = 0, slot = 0;
  auto operator<=>(const GuestSlot&) const = default;
};

/// Bus used by the fragment: the fragment cannot see the domain's controllers, so it names
/// a root port index above virt-manager's default set (1-14); libvirt adds missing
/// controllers for referenced buses. --domain picks a really free port instead.
inline constexpr std::uint32_t kFragmentGuestBus = 0x10;

/// Short label for a function's class ("GPU", "audio", "USB", "UCSI", ...).
std::string function_role(std::uint32_t class_code);

/// Fragment mode: the <hostdev> elements (to paste into <devices>) and, when the vendor
/// snippets ask for them, a <features> element to merge.
std::string fragment_xml(const Passthrough& p, GuestSlot slot = {0, kFragmentGuestBus, 0});

struct PatchResult {
  std::string xml;
  bool changed = false;
  std::vector<std::string> actions;  ///< what was added or adjusted, for stderr
};

/// Domain mode: adds the GPU to a `virsh dumpxml` document. Idempotent; bytes outside the
/// nodes it owns are kept (see domain_patch.cpp for the exact guarantee).
/// `source_name` names the file in parse errors.
Result<PatchResult> patch_domain(std::string_view domain_xml, const Passthrough& p,
                                 std::string_view source_name = "domain");

/// --format qemu: the equivalent arguments (argv words, pairs like "-device", "vfio-pci,..."),
/// for a q35 machine (the GPU sits behind its own pcie-root-port).
std::vector<std::string> qemu_args(const Passthrough& p);
/// The same as lines a shell script can paste ("-device vfio-pci,... \").
std::string qemu_args_text(const Passthrough& p);

/// --format proxmox: "hostpci0: 01:00,pcie=1,x-vga=1,romfile=NAME\n" (vm/proxmox.cpp).
std::string proxmox_hostpci(const Passthrough& p, int index = 0);

enum class LintSeverity { warning, error };
struct LintFinding {
  std::string id;  ///< missing-audio, missing-function, split-slot, no-guest-address,
                   ///< no-multifunction, rom-unreadable, not-isolated, no-iommu, not-on-host
  LintSeverity severity = LintSeverity::error;
  std::string device;   ///< host address concerned
  std::string message;  ///< a sentence for the user, with the fix
};

/// Lint mode: passthrough mistakes in a domain, judged against this host's inventory.
/// ROM paths are checked on host_fs (the machine running libvirt).
Result<std::vector<LintFinding>> lint_domain(std::string_view domain_xml, const Inventory& inv,
                                             const Fs& host_fs,
                                             std::string_view source_name = "domain");

const char* to_string(LintSeverity);

}  // namespace exliar::vm
