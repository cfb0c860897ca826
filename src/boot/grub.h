// GRUB's /etc/default/grub and /etc/default/grub.d/*.cfg.
//
// Drop-in rule: grub-mkconfig sources /etc/default/grub, then (Debian and derivatives)
// every /etc/default/grub.d/*.cfg in glob order; the last assignment of a variable wins.
// exliar edits the assignment the effective value comes from: an add goes into the LAST
// assignment of the variable (in a drop-in if that is where it is), a remove follows the
// chain of assignments that contribute to the value (`X="$X foo"` contributes its
// predecessor too). It never writes a drop-in of its own: Fedora and Arch do not read
// grub.d, and a remove must touch the user's own line anyway.
//
// Which variable: GRUB_CMDLINE_LINUX_DEFAULT (normal entries only, so the recovery
// entries stay an escape hatch) when it is assigned anywhere, else GRUB_CMDLINE_LINUX;
// comma-list keys go where the key already is; with BLS (Fedora, RHEL) always
// GRUB_CMDLINE_LINUX, which is what grub2-mkconfig --update-bls-cmdline and kernel
// installs use. A remove edits both variables.
#pragma once

#include <string>
#include <vector>

#include "boot/params.h"
#include "boot/shell_file.h"

namespace exliar::boot {

inline constexpr std::string_view kGrubLinux = "GRUB_CMDLINE_LINUX";
inline constexpr std::string_view kGrubDefault = "GRUB_CMDLINE_LINUX_DEFAULT";

struct GrubSource {
  std::string path;  ///< host path inside the root (for errors and EditFile)
  std::string text;
};

struct GrubEval {
  struct Ref {
    size_t source = 0, index = 0;  ///< files[source].assignments[index]
  };
  std::vector<ShellFile> files;
  ShellEnv env;                                     ///< values after sourcing everything
  std::map<std::string, std::vector<Ref>> history;  ///< every assignment of a name, in order
  const ShellAssignment& at(Ref r) const { return files[r.source].assignments[r.index]; }
};

/// Sources the files in order like the shell would (without running anything). Fails,
/// naming file and line, on malformed files and on a GRUB_CMDLINE_* or
/// GRUB_ENABLE_BLSCFG value that cannot be known (command substitution, unset $VAR).
Result<GrubEval> evaluate_grub(const std::vector<GrubSource>& sources);

/// Kernel words of a variable after evaluation ("" when unset).
std::vector<std::string> grub_words(const GrubEval& ev, std::string_view name);
/// The file:line assignments a variable's value comes from, last first.
std::vector<GrubEval::Ref> grub_chain(const GrubSource* sources, const GrubEval& ev,
                                      std::string_view name);

/// A parameter that can be written into /etc/default/grub and reach grub.cfg literally:
/// a kernel parameter without GRUB-script or sh metacharacters (; # $ ` { } | & < > \).
Status check_grub_param(std::string_view param);

/// Applies edits to the sources' text (see the rules above); returns the edits that
/// changed something. Checks afterwards that the effective values say what was asked.
Result<std::vector<ParamEdit>> edit_grub(std::vector<GrubSource>& sources,
                                         const std::vector<ParamEdit>& edits, bool bls);

}  // namespace exliar::boot
