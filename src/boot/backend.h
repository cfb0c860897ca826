// Boot loader backends: each detects its configuration, reads the effective command
// line of every boot entry (and where it comes from), and turns add/remove requests
// into EditFile and RunCommand steps. Nothing here writes or runs anything.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "boot/params.h"
#include "host/fs.h"
#include "plan/step.h"
#include "probe/inventory.h"

namespace exliar::boot {

struct CmdlineOrigin {
  std::string path;  ///< host path inside the root
  int line = 0;
  std::string what;  ///< "GRUB_CMDLINE_LINUX_DEFAULT", "options", "user.kernel_options", ...
};

struct BootEntryView {
  std::string name;
  std::vector<std::string> params;  ///< kernel-level words, in order
  std::vector<CmdlineOrigin> origins;
  /// The loader adds parameters of its own (GRUB: BOOT_IMAGE=, root=, ro).
  bool loader_adds = false;
  /// Describes the configuration for kernels installed later, not a bootable entry.
  bool template_only = false;
};

struct BootConfig {
  std::string backend;  ///< "grub", "grub-bls", "systemd-boot", "kernelstub"
  std::vector<BootEntryView> entries;
  std::vector<std::string> notes;  ///< skipped entries, ignored drop-ins, ...
};

struct BootPlan {
  std::vector<Step> steps;
  std::vector<ParamEdit> applied;  ///< the requested edits that change something
  std::vector<std::string> warnings;
};

class BootBackend {
 public:
  virtual ~BootBackend() = default;
  virtual std::string name() const = 0;
  /// The boot configuration as it is; a file that cannot be parsed is named as the user
  /// finds it (root prefix included, see in_root).
  Result<BootConfig> read(const Fs& fs) const {
    auto r = read_files(fs);
    if (!r) return tl::unexpected(in_root(fs, r.error()));
    return r;
  }
  /// The edits that make `edits` true, and the commands that regenerate from them.
  Result<BootPlan> plan(const Fs& fs, const std::vector<ParamEdit>& edits) const {
    auto r = plan_edits(fs, edits);
    if (!r) return tl::unexpected(in_root(fs, r.error()));
    return r;
  }

 private:
  virtual Result<BootConfig> read_files(const Fs& fs) const = 0;
  virtual Result<BootPlan> plan_edits(const Fs& fs, const std::vector<ParamEdit>& edits) const = 0;
};

std::unique_ptr<BootBackend> make_grub_backend(const System& sys);
std::unique_ptr<BootBackend> make_bls_backend(const System& sys);
std::unique_ptr<BootBackend> make_systemd_boot_backend(const System& sys);
std::unique_ptr<BootBackend> make_kernelstub_backend(const System& sys);

/// The backend for the boot loader probe found; GRUB with GRUB_ENABLE_BLSCFG=true and
/// /boot/loader/entries is the BLS backend. Fails when the loader is unknown.
Result<std::unique_ptr<BootBackend>> select_backend(const Fs& fs, const System& sys);

/// A loader entry file (BLS / systemd-boot) as shown by `boot show`: its title, kernel
/// words and the options lines they come from; errors name the file and line.
Result<BootEntryView> loader_entry_view(const std::string& path, std::string_view text);

/// Does the distro (ID or ID_LIKE) belong to one of these families?
bool distro_is(const Distro& d, std::initializer_list<std::string_view> families);

/// Reads a text file for editing: errors name the file.
Result<std::string> read_boot_file(const Fs& fs, std::string_view path);

/// An EditFile step when text differs from before.
/// Adds the edit of /etc/kernel/cmdline (kernel-install / proxmox-boot-tool) to plan;
/// returns the requested edits that changed it. Errors name the file and line.
Result<std::vector<ParamEdit>> plan_kernel_cmdline_edit(const Fs& fs,
                                                        const std::vector<ParamEdit>& edits,
                                                        BootPlan& plan, std::string source);

void push_edit(BootPlan& plan, std::string path, std::string before, std::string after,
               std::string source);

}  // namespace exliar::boot
