// `exliar cleanup-script`: a standalone POSIX sh script that undoes every transaction that
// is not rolled back yet, without exliar (rescue from a live USB). Backups are embedded.
#pragma once

#include <string>

#include "host/error.h"
#include "host/fs.h"

namespace exliar {

/// The script text. Refuses (like rollback) when a journal or a backup is corrupted.
Result<std::string> make_cleanup_script(const Fs& fs);

/// 'text' quoted for sh.
std::string sh_quote(std::string_view s);
/// A printf(1) format that prints exactly `bytes` (octal escapes for everything unusual).
std::string printf_format(std::string_view bytes);

}  // namespace exliar
