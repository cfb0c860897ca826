#pragma once

#include <string_view>
#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// Reads everything in System from the rooted Fs. Never fails: what cannot be read is
/// "unknown", and the reason goes to notes.
System probe_system(const Fs& fs, std::vector<ProbeNote>& notes);

// Pure parts, exposed for tests.
Cpu parse_cpuinfo(std::string_view text);
std::vector<std::string> iommu_cmdline_tokens(std::string_view cmdline);
/// EFI variable payload (4 attribute bytes + data) of SecureBoot.
SecureBoot parse_secure_boot_var(std::string_view bytes);

}  // namespace exliar
