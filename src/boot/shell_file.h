// A conservative reader of the shell files GRUB sources (/etc/default/grub and
// /etc/default/grub.d/*.cfg): it splits the file into commands the way the POSIX shell
// grammar does (XCU 2.9/2.10: separators ; & | && ||, compound commands, here-documents,
// comments, line continuations), finds `NAME=value` assignments and the byte range of
// each value, says which assignments the shell performs for certain, and lists the other
// commands. It follows quotes across the whole file so that a quote opened on one line is
// never mistaken for the end of another. It does not run anything.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "boot/cmdline.h"
#include "host/error.h"

namespace exliar::boot {

struct ShellAssignment {
  std::string name;
  int line = 0;                             ///< 1-based line of NAME
  size_t word_begin = 0, word_end = 0;      ///< the whole value word, quotes included
  size_t region_begin = 0, region_end = 0;  ///< the editable bytes (inside the quotes)
  Quoting quoting = Quoting::shell_bare;
  /// Non-empty when the value is not one plain quoted string: several quoted parts,
  /// command substitution, a value spanning lines. Such a value is never edited.
  std::string unsupported;
  /// Non-empty when the shell may or may not perform the assignment, or performs it in a
  /// subshell or only for one command: inside if/case/loops/functions/braces, after && or
  /// ||, in a pipeline or background job, or as a prefix (`NAME=value command`). Says why.
  std::string uncertain;
};

/// A command other than plain assignments (`. FILE`, `unset NAME`, `echo ...`).
struct ShellCommand {
  int line = 0;
  std::vector<std::string> words;  ///< quote-stripped words, command name first
};

struct ShellFile {
  std::vector<ShellAssignment> assignments;  ///< in file order
  std::vector<ShellCommand> commands;        ///< in file order
};

/// Limits that make a file "malformed" rather than slow.
inline constexpr size_t kMaxShellFileBytes = 1 << 20;
inline constexpr size_t kMaxLineBytes = 16384;

/// Fails (Error.line set, Error.path empty) on binary bytes, CR line ends, lines longer
/// than kMaxLineBytes, and quotes or backquotes left open at the end of the file.
Result<ShellFile> parse_shell_file(std::string_view text);

/// Checks shared by every text parser of boot files: binary junk, CRLF, huge lines.
Status check_text(std::string_view text);

/// Shell variables known while sourcing files in order; a name maps to its value.
using ShellEnv = std::map<std::string, std::string>;

/// The value of an assignment as the shell would compute it: quoting undone, $NAME and
/// ${NAME} expanded from env. Fails on unsupported values and on unset variables.
Result<std::string> expand_value(std::string_view text, const ShellAssignment& a,
                                 const ShellEnv& env);

/// Names referenced as $NAME / ${NAME} in the assignment's region (not in single quotes).
std::vector<std::string> referenced_names(std::string_view text, const ShellAssignment& a);

}  // namespace exliar::boot
