// Small pure helpers over text, shared by every parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar {

std::string_view trim(std::string_view s);
/// Lines without their terminators; a final line without '\n' is kept; "\r" is not stripped.
std::vector<std::string_view> split_lines(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
std::vector<std::string_view> split_ws(std::string_view s);
/// "0x10de\n" or "10de" -> 0x10de; nullopt for anything else (empty, junk, overflow).
std::optional<std::uint32_t> parse_hex(std::string_view s);
std::optional<long> parse_long(std::string_view s);
std::string to_lower(std::string_view s);
std::string hex4(std::uint32_t v);  ///< "10de"
std::string hex2(std::uint32_t v);  ///< "a1"
std::string hex6(std::uint32_t v);  ///< "030000"
std::string join(const std::vector<std::string>& parts, std::string_view sep);
/// "10de:1b81": two 4-digit hex fields (the form of vfio-pci.ids= entries).
bool is_pci_id(std::string_view id);
/// Does text contain a NUL byte or invalid control characters (binary junk)?
bool looks_binary(std::string_view s);
/// The one rule for line ends of every file exliar edits: LF only. A CR (DOS/Windows
/// line end) would be read as part of the value by the shell, the kernel or the boot
/// loader, and a line exliar appends would mix endings. Fails naming the first line
/// with a CR (Error.line; Error.path left empty for the caller).
Result<void> check_line_ends(std::string_view text);
/// Does the last line end in a line continuation (an odd number of backslashes before
/// the final newline or the end)? The shell, and `read` without -r, then join the next
/// line to it (POSIX XCU 2.2.1 Escape Character).
bool ends_in_continuation(std::string_view text);
/// text with line appended on a line of its own: a missing final newline is added, and
/// after a line continuation an empty line, so the new line is never glued to the last.
std::string append_own_line(std::string_view text, std::string_view line);

}  // namespace exliar
