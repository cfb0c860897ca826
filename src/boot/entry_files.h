// Parsers for the files that hold a command line without shell quoting: Boot Loader
// Specification entries (systemd-boot, Fedora BLS), /etc/kernel/cmdline (kernel-install,
// UKI, proxmox-boot-tool) and Pop!_OS kernelstub's JSON configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/region.h"
#include "host/error.h"

namespace exliar::boot {

struct EntryKey {
  std::string key;
  int line = 0;
  size_t value_begin = 0, value_end = 0;  ///< without surrounding blanks or a trailing comment
  bool trailing_comment = false;          ///< " # ..." after the value (kept, never edited)
  bool separated = false;                 ///< blanks follow the key (a bare "options" has none)
};

/// A Boot Loader Specification type #1 entry: "key<blanks>value" lines (spaces or tabs),
/// '#' comment lines. Several `options` lines are joined with a space by the loader.
struct LoaderEntry {
  std::vector<EntryKey> keys;
  std::optional<std::string> first(std::string_view text, std::string_view key) const;
  /// The `options` values, in file order; a bare "options" line without any blank after
  /// the key has nowhere to put a token and is left alone.
  std::vector<CmdRegion> options() const;
};

/// Fails on binary junk, CR line ends, huge lines, a key line without a value, and an
/// options value with an unbalanced quote (Error.line set, path empty).
Result<LoaderEntry> parse_loader_entry(std::string_view text);
/// Applies edits to an entry's options (adding an `options` line when there is none).
Result<std::vector<ParamEdit>> edit_loader_entry(std::string& text,
                                                 const std::vector<ParamEdit>& edits);

/// /etc/kernel/cmdline: the whole file is one command line (kernel-install reads it with
/// `read -d ''`), blanks and newlines separate. Returns its region.
Result<CmdRegion> parse_kernel_cmdline_file(std::string_view text);
Result<std::vector<ParamEdit>> edit_kernel_cmdline_file(std::string& text,
                                                        const std::vector<ParamEdit>& edits);

/// kernelstub's /etc/kernelstub/configuration: the user.kernel_options list (the
/// "default" section is what kernelstub resets to). Errors name the JSON line.
Result<std::vector<std::string>> parse_kernelstub_config(std::string_view text);

}  // namespace exliar::boot
