// /etc/default/grub: the shell reader, the evaluation and the edit. An edit that
// succeeds must leave a file that still evaluates, with the parameter in effect.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "boot/grub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  using namespace exliar::boot;
  if (!parse_shell_file(text)) return 0;
  std::vector<GrubSource> src{{"/etc/default/grub", text}};
  if (!evaluate_grub(src)) return 0;
  auto r = edit_grub(
      src, {{ParamEdit::Op::add, "intel_iommu=on"}, {ParamEdit::Op::add, "vfio-pci.ids=10de:1b80"}},
      (size & 1) != 0);
  if (!r) return 0;
  auto ev = evaluate_grub(src);
  if (!ev) std::abort();
  auto back = edit_grub(src, reverse_edits(*r), (size & 1) != 0);
  if (back && !evaluate_grub(src)) std::abort();
  return 0;
}
