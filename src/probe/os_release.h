#pragma once

#include <map>
#include <string>
#include <string_view>

#include "host/error.h"

namespace exliar {

/// Parses os-release(5): KEY=VALUE lines with shell-style quoting ("...", '...', \x).
/// Lines that are not assignments are ignored, as systemd does; a value with an
/// unterminated quote is an error naming the line.
Result<std::map<std::string, std::string>> parse_os_release(std::string_view text);

}  // namespace exliar
