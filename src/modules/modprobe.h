// exliar's own modprobe.d and modules-load.d files (never edits of the user's), and a
// reader for the user's modprobe.d files to find settings that would defeat ours.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exliar {

struct ModprobeConfig {
  std::vector<std::string> ids;  ///< "10de:1b81"; empty in address mode
  bool disable_vga = false;
  std::vector<std::string> softdep_modules;  ///< native modules that must wait for vfio-pci
  bool vendor_reset = false;                 ///< vendor-reset must load before vfio-pci
  bool address_mode = false;                 ///< add the early-bind install rule
  bool vfio_pci_builtin = false;  ///< some kernel has vfio-pci built in: rules on natives too
};

/// /etc/modprobe.d/exliar-vfio.conf.
std::string modprobe_conf(const ModprobeConfig& c);
/// /etc/modules-load.d/exliar-vfio.conf: one module per line.
std::string modules_load_conf(const std::vector<std::string>& modules);

/// One directive of a modprobe.d file: "options vfio-pci ids=..." -> {options, vfio_pci, ...}.
struct ModprobeDirective {
  int line = 0;         ///< 1-based line where it starts (continuations joined)
  std::string command;  ///< alias, options, install, remove, softdep, blacklist, ...
  std::string module;   ///< normalised ('-' -> '_'); "" when missing
  std::vector<std::string> args;
};
/// Pure: comments ('#' at line start), blank lines and '\' continuations as modprobe.d(5).
std::vector<ModprobeDirective> parse_modprobe_conf(std::string_view text);

/// Warnings about directives in another modprobe.d file (display path `file`) that would
/// fight exliar's: blacklisted vfio modules, other vfio-pci ids= (the last one read wins),
/// another install rule for vfio-pci, a blacklisted native driver is fine.
std::vector<std::string> modprobe_conflicts(std::string_view file, std::string_view text,
                                            const ModprobeConfig& ours);

}  // namespace exliar
