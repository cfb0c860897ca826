// Small text readers of the modules stage: modprobe.d, the early-bind address list, the
// bind state file, /proc/net/route, /proc/mounts, modules.dep/builtin, kernel versions.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "modules/bind.h"
#include "modules/bind_safety.h"
#include "modules/early_bind.h"
#include "modules/kernel_modules.h"
#include "modules/modprobe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exliar;
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)parse_modprobe_conf(text);
  (void)modprobe_conflicts("f", text, ModprobeConfig{{"10de:1b81"}});
  auto list = parse_early_bind_addresses(text);
  // What we write we read back identically.
  if (parse_early_bind_addresses(early_bind_addresses(list.addresses)).addresses != list.addresses) std::abort();
  if (auto s = parse_bind_state(text, "f")) {
    auto back = parse_bind_state(format_bind_state(*s), "f");
    if (!back || *back != *s) std::abort();
  }
  (void)parse_default_route_ifaces(text);
  (void)parse_mount_sources(text);
  (void)parse_modules_dep(text);
  (void)parse_modules_builtin(text);
  (void)parse_kernel_version(text);
  (void)parse_config_vfio_pci_vga(text);
  return 0;
}
