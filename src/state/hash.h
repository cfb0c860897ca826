// SHA-256 of file contents, recorded in the journal so that rollback and status can tell
// "exactly what exliar wrote" from "changed since".
#pragma once

#include <string>
#include <string_view>

namespace exliar {

/// Lowercase hex SHA-256 (libcrypto).
std::string sha256_hex(std::string_view data);

}  // namespace exliar
