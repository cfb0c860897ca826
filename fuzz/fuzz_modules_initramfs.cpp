// Initramfs configuration edits (mkinitcpio arrays, dracut lists, initramfs-tools lines,
// booster.yaml). Properties: parsing never crashes; an edit that succeeds yields text that
// still parses, lists our modules first, and is a fixed point (editing again changes nothing).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "modules/initramfs/booster.h"
#include "modules/initramfs/dracut.h"
#include "modules/initramfs/initramfs_tools.h"
#include "modules/initramfs/mkinitcpio.h"
#include "modules/initramfs/shell_assign.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exliar;
  std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> ours = {"vfio_pci", "vfio", "vfio_iommu_type1"};
  const std::vector<std::string> forbidden = {"vfio_virqfd"};
  const std::vector<std::string> natives = {"amdgpu", "nouveau", "i915"};

  if (auto m = mkinitcpio_edit_modules(text, "f", ours, forbidden, natives)) {
    if (!parse_shell_assignments(*m, "f")) std::abort();
    auto again = mkinitcpio_edit_modules(*m, "f", ours, forbidden, natives);
    if (!again || *again != *m) std::abort();
  }
  if (auto f = mkinitcpio_add_files(text, "f", {"/etc/x"})) {
    auto again = mkinitcpio_add_files(*f, "f", {"/etc/x"});
    if (!again || *again != *f) std::abort();
  }
  if (auto d = dracut_remove_drivers(text, "f", forbidden)) {
    if (!parse_shell_assignments(*d, "f")) std::abort();
    (void)dracut_lint(*d, "f");
  }
  auto it = initramfs_tools_edit_modules(text, ours, forbidden, natives);
  if (initramfs_tools_edit_modules(it, ours, forbidden, natives) != it) std::abort();
  if (auto b = booster_edit(text, "f", ours, forbidden, natives)) {
    auto again = booster_edit(*b, "f", ours, forbidden, natives);
    if (!again || *again != *b) std::abort();
  }
  return 0;
}
