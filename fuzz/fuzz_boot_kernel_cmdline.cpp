// /etc/kernel/cmdline: parse and a byte-exact add/remove round trip.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "boot/entry_files.h"

namespace {
// A text that already mentions our keys may hold them in several tokens; a remove then
// rightly removes more than the add added, so byte equality is only asserted without.
bool mentions_keys(const std::string& t) {
  for (const char* k : {"iommu", "vfio", "73bf", "driver"})
    if (t.find(k) != std::string::npos) return true;
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  using namespace exliar::boot;
  if (!parse_kernel_cmdline_file(text)) return 0;
  std::string edited = text;
  auto r = edit_kernel_cmdline_file(edited, {{ParamEdit::Op::add, "intel_iommu=on"},
                                             {ParamEdit::Op::add, "rd.driver.pre=vfio-pci"}});
  if (!r) return 0;
  auto back = edit_kernel_cmdline_file(edited, reverse_edits(*r));
  if (!back) std::abort();
  if (!mentions_keys(text) && edited != text) std::abort();
  return 0;
}
