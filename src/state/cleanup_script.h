// `exliar cleanup-script`: a standalone POSIX sh script that undoes every transaction that
// is not rolled back yet, without exliar (rescue from a live USB). Backups are embedded.
#pragma once

#include <string>

#include "host/error.h"
#include "host/fs.h"

namespace exliar {

/// The script text. Refuses (like rollback) when a journal or a backup is corrupted.
Result<std::string> make_cleanup_script(const Fs& fs);

/// Writes make_cleanup_script() to paths::kCleanupScript (atomically, mode 0700) so that a
/// machine that no longer boots to a desktop can be repaired from a rescue shell. Called
/// after every apply and rollback; returns the path written.
Result<std::string> write_cleanup_script(Fs& fs);

/// 'text' quoted for sh.
std::string sh_quote(std::string_view s);
/// A printf(1) format that prints exactly `bytes` (octal escapes for everything unusual).
std::string printf_format(std::string_view bytes);

}  // namespace exliar
