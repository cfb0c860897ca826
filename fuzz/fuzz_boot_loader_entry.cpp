// Boot Loader Specification entries: parse, then add/remove on the options lines; with
// an options line present, the round trip is byte-exact.
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
  auto e = parse_loader_entry(text);
  if (!e) return 0;
  bool had_options = !e->options().empty();
  std::string edited = text;
  auto r = edit_loader_entry(
      edited, {{ParamEdit::Op::add, "iommu=pt"}, {ParamEdit::Op::add, "vfio-pci.ids=1002:73bf"}});
  if (!r) return 0;
  if (!parse_loader_entry(edited)) std::abort();
  auto back = edit_loader_entry(edited, reverse_edits(*r));
  if (!back) std::abort();
  if (had_options && !mentions_keys(text) && edited != text) std::abort();
  return 0;
}
