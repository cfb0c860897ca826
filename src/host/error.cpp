#include "host/error.h"

#include <cstring>

namespace exliar {

std::string Error::describe() const {
  std::string out;
  if (!path.empty()) {
    out += path;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  out += message;
  if (err != 0) {
    out += " (";
    out += std::strerror(err);
    out += ")";
  }
  return out;
}

}  // namespace exliar
