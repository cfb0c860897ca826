// What every initramfs backend receives and returns. Each backend detects its generator,
// edits (or writes its own drop-in for) the generator's configuration so the VFIO modules
// load before any native GPU driver, includes the early-bind files when binding by
// address, and regenerates the images of every installed kernel.
#pragma once

#include <string>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "modules/kernel_modules.h"
#include "plan/step.h"

namespace exliar {

struct InitramfsInput {
  /// Modules to load early, in load order; only names present in every installed kernel.
  std::vector<std::string> modules;
  /// Modules that must not be listed (absent from some installed kernel, e.g. vfio_virqfd
  /// on >= 6.2: listing it makes dracut-install and mkinitcpio fail).
  std::vector<std::string> forbidden;
  /// Native drivers of the passed functions: vfio must come before them.
  std::vector<std::string> native_drivers;
  /// Host files to copy into the image (modprobe.d file, early-bind script and data).
  std::vector<std::string> files;
  bool address_mode = false;  ///< files include the early-bind script (needs a shell at boot)
  std::vector<KernelModules> kernels;
};

struct InitramfsOutput {
  std::vector<Step> steps;
  std::vector<std::string> warnings;
};

/// GPU and companion drivers that must not bind before vfio-pci; used to check module
/// order in configuration files (the request's own drivers are added to these).
inline constexpr std::string_view kNativeDrivers[] = {
    "amdgpu", "radeon", "nouveau",       "nvidia",   "nvidia_drm",     "nvidia_modeset",
    "i915",   "xe",     "snd_hda_intel", "xhci_pci", "i2c_nvidia_gpu", "ucsi_ccg",
};

bool mkinitcpio_detect(const Fs& fs);
Result<InitramfsOutput> mkinitcpio_steps(const Fs& fs, const InitramfsInput& in);

bool dracut_detect(const Fs& fs);
Result<InitramfsOutput> dracut_steps(const Fs& fs, const InitramfsInput& in);

bool initramfs_tools_detect(const Fs& fs);
Result<InitramfsOutput> initramfs_tools_steps(const Fs& fs, const InitramfsInput& in);

bool booster_detect(const Fs& fs);
Result<InitramfsOutput> booster_steps(const Fs& fs, const InitramfsInput& in);

/// Reads a file for editing: nullopt when missing; an error when unreadable or binary.
Result<std::optional<std::string>> read_config(const Fs& fs, std::string_view path);
/// An EditFile step, or nothing when after == before.
void add_edit(InitramfsOutput& out, std::string path, std::optional<std::string> before,
              std::optional<std::string> after, mode_t mode, std::string reason,
              std::string source);

}  // namespace exliar
