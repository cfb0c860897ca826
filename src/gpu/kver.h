// Kernel release strings ("6.8.0-45-generic") as comparable versions.
#pragma once

#include <optional>
#include <string_view>

namespace exliar::gpu {

struct KernelVersion {
  int major = 0, minor = 0;
  auto operator<=>(const KernelVersion&) const = default;
};

/// "6.8.0-45-generic" -> {6, 8}; nullopt when it does not start with "N.N".
std::optional<KernelVersion> parse_kernel_version(std::string_view release);

}  // namespace exliar::gpu
