// The GPU database: what is known about a GPU model from its PCI IDs alone.
// Data lives in data/gpu-db/*.json (embedded at build time; --gpu-db DIR overrides).
// Every entry names its source; fields that are not known are null (std::nullopt), never
// guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"
#include "host/fs.h"

namespace exliar::gpu {

/// When a ROM file must be given to the VM.
/// legacy_igd: Intel iGPUs QEMU can assign in legacy mode (igd.c igd_devices[], SNB..RPL):
/// only that mode needs a VGA ROM; UPT mode needs none (QEMU docs/igd-assign.txt).
enum class VbiosNeed { never, boot_gpu, always, legacy_igd };
const char* to_string(VbiosNeed);

/// NVIDIA's Code 43 hypervisor check in the Windows GeForce driver. It never applied to
/// Tesla/Quadro/RTX-enterprise products and was dropped in R465 (NVIDIA GeForce passthrough
/// FAQ, 2021). `legacy_drivers`: only guest drivers older than R465 need KVM hidden;
/// `all_drivers`: every driver branch of this GPU predates R465 (Tesla R340, Fermi R390).
enum class Code43 { none, legacy_drivers, all_drivers, unknown };
const char* to_string(Code43);

/// Capability fields of an entry (or of a vendor's defaults).
struct GpuCaps {
  std::vector<std::string> drivers;  ///< native kernel drivers that bind it (softdep targets)
  std::optional<bool> supports_reset;
  std::optional<bool> has_reset_bug;
  bool vendor_reset_supported = false;      ///< listed in gnif/vendor-reset's device table
  std::optional<std::string> reset_method;  ///< hint for /sys/.../reset_method
  // requires_acs_override is always null in the data: a board fact, not a GPU fact.
  std::optional<bool> supports_fbc;
  bool supports_gvt = false;
  std::optional<bool> supports_sriov;
  Code43 code43 = Code43::none;
  /// QEMU applies its own device-specific reset to this ID (hw/vfio/pci-quirks.c
  /// vfio_setup_resetfn_quirk: Bonaire/Hawaii, which do not respond to a bus reset).
  bool qemu_reset_quirk = false;
  bool supports_vbios_loading = true;
  VbiosNeed vbios_needed = VbiosNeed::never;
  std::optional<std::string> notes;
  std::string source;
};

struct IdRange {
  std::uint16_t first = 0, last = 0;
};

struct DbEntry {
  std::uint16_t vendor_id = 0;
  std::string codename, architecture, generation;
  bool integrated = false;
  std::string role = "gpu";  ///< "gpu", "bmc" (server management video) or "virtual"
  std::vector<std::uint16_t> device_ids;
  std::vector<IdRange> device_ranges;
  std::vector<std::uint8_t> revisions;  ///< empty = any revision
  GpuCaps caps;
  std::string file;  ///< "amd.json"
  int index = 0;     ///< 0-based position in the file's "entries"
};

struct DbVendor {
  std::uint16_t vendor_id = 0;
  std::string key;   ///< "amd", "nvidia", "intel", "aspeed", ...
  std::string name;  ///< "AMD/ATI"
  GpuCaps defaults;  ///< for IDs of this vendor that no entry matches
};

enum class MatchKind { exact_revision, exact, range, vendor_default, unknown_vendor };
const char* to_string(MatchKind);

struct DbMatch {
  MatchKind kind = MatchKind::unknown_vendor;
  const DbEntry* entry = nullptr;    ///< null for vendor_default / unknown_vendor
  const DbVendor* vendor = nullptr;  ///< null for unknown_vendor
  const GpuCaps& caps() const;
};

class GpuDb {
 public:
  std::vector<DbEntry> entries;
  std::vector<DbVendor> vendors;
  std::vector<std::string> files;  ///< where it came from ("embedded:amd.json", "/dir/amd.json")
  /// (vendor << 16 | device) of Quadro/Tesla/RTX-enterprise products, generated from pci.ids
  /// (nvidia-products.json): the GeForce-only Code 43 check never applied to them.
  std::set<std::uint32_t> pro_ids;
  std::string pro_ids_source;
  bool is_pro(std::uint16_t vendor, std::uint16_t device) const {
    return pro_ids.count(std::uint32_t(vendor) << 16 | device) != 0;
  }

  /// Exact ID with matching revision, then exact ID, then the narrowest range, then the
  /// vendor's defaults.
  DbMatch lookup(std::uint16_t vendor, std::uint16_t device,
                 std::optional<std::uint8_t> revision) const;
  const DbVendor* find_vendor(std::uint16_t vendor) const;
};

/// Parses and validates one database file; `name` is used in error messages. Rejects
/// unknown keys, wrong types, malformed IDs, missing `source`, a non-null
/// `requires_acs_override`, and revisions without exact IDs.
Status parse_gpu_db_file(std::string_view name, std::string_view text, GpuDb& into);
/// Cross-file checks after all files are parsed: duplicate IDs, partially overlapping
/// ranges, entries of a vendor that no file declares.
Status validate_gpu_db(const GpuDb& db);

/// The database compiled into the binary.
Result<GpuDb> load_embedded_gpu_db();
/// Every *.json in dir (a path read through fs), validated like the embedded one.
Result<GpuDb> load_gpu_db_dir(const Fs& fs, std::string_view dir);

}  // namespace exliar::gpu

namespace exliar::gpu {

/// The database a command should use: the embedded one, or every *.json in
/// `override_dir` (--gpu-db; a path on the machine running exliar, not under --root).
Result<GpuDb> load_gpu_db(const std::string& override_dir);

}  // namespace exliar::gpu
