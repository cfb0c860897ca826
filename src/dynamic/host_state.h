// What stands between the host and a GPU handed to a VM at runtime, read from the rooted
// Fs: processes holding its device nodes, the display manager, the virtual consoles drawn
// by fbcon, firmware framebuffers and the driver modules. Pure readers: nothing changes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar::dynamic {

/// Device nodes of the GPU's functions: /dev/dri/cardN and renderDN (from
/// <device>/drm/), /dev/fbN (<device>/graphics/), and every /dev/nvidia* when a
/// function is driven by nvidia (nvidiactl and nvidia-modeset are shared by all cards).
std::vector<std::string> gpu_device_nodes(const Fs& fs, const std::vector<PciAddress>& functions);

struct Holder {
  int pid = 0;
  std::string comm;  ///< /proc/<pid>/comm
  std::string node;  ///< the device node it holds open
  bool operator==(const Holder&) const = default;
};
/// Processes with one of nodes open (a /proc/<pid>/fd/* link to it), by pid.
std::vector<Holder> find_holders(const Fs& fs, const std::vector<std::string>& nodes);
/// "Xorg (pid 812) holds /dev/dri/card0, ..." for messages.
std::string describe_holders(const std::vector<Holder>& h);

/// A display manager service as the init system names it.
struct DisplayManager {
  std::string service;  ///< "display-manager.service" (systemd) or "display-manager" (OpenRC)
  std::string init;     ///< "systemd" or "openrc"
  std::string label;    ///< the real one behind the alias ("gdm.service"), for messages
};
/// The configured service wins; else systemd's display-manager.service alias (installed by
/// gdm, sddm, lightdm, lxdm, xdm, greetd, ly, ...) or OpenRC's display-manager.
std::optional<DisplayManager> detect_display_manager(const Fs& fs, const std::string& init_system,
                                                     const std::optional<std::string>& configured);
/// argv for "stop"/"start"/"is-active" of the service.
std::vector<std::string> service_argv(const DisplayManager& dm, std::string_view action);

/// A virtual console driver bound to the consoles (/sys/class/vtconsole/vtconN).
struct VtConsole {
  std::string dir;   ///< "vtcon1"
  std::string name;  ///< "(M) frame buffer device"
  bool bound = false;
};
std::vector<VtConsole> list_vtconsoles(const Fs& fs);
/// fbcon's console ("frame buffer device", drivers/video/fbdev/core/fbcon.c): the one that
/// draws on the GPU and must let go before its driver can leave.
bool is_fbcon(const VtConsole& v);

/// A firmware framebuffer bound to its platform driver: {"efi-framebuffer",
/// "efi-framebuffer.0"}. They hold the GPU's memory (BAR) that the firmware set up.
struct FirmwareFb {
  std::string driver, device;
};
std::vector<FirmwareFb> list_firmware_framebuffers(const Fs& fs);

/// Loaded (loadable, live) module?  /sys/module/<m>/initstate reads "live"; built-in
/// drivers have no initstate and cannot be unloaded.
bool module_live(const Fs& fs, std::string_view m);
/// The module of a PCI function's bound driver (<device>/driver/module), nullopt when none
/// or built in.
std::optional<std::string> driver_module(const Fs& fs, const PciAddress& a);
/// roots plus every live module holding one of them (/sys/module/<m>/holders/), ordered so
/// that a module comes before the modules it uses: nvidia -> nvidia_drm, nvidia_modeset,
/// nvidia_uvm, nvidia. Ties keep the order of first discovery.
std::vector<std::string> unload_order(const Fs& fs, const std::vector<std::string>& roots);

}  // namespace exliar::dynamic
