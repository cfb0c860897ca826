// SHA-256 of file contents, recorded in the journal so that rollback and status can tell
// "exactly what exliar wrote" from "changed since".
#pragma once

#include <string>
#include <string_view>

namespace exliar {

/// Lowercase hex SHA-256 (FIPS 180-4; hash.cpp says why not libcrypto).
std::string sha256_hex(std::string_view data);

}  // namespace exliar
