#include "gpu/kver.h"

#include <charconv>

namespace exliar::gpu {

std::optional<KernelVersion> parse_kernel_version(std::string_view s) {
  KernelVersion v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v.major);
  if (ec != std::errc() || p == s.data() + s.size() || *p != '.') return std::nullopt;
  const char* q = p + 1;
  auto [p2, ec2] = std::from_chars(q, s.data() + s.size(), v.minor);
  if (ec2 != std::errc() || p2 == q) return std::nullopt;
  return v;
}

}  // namespace exliar::gpu
