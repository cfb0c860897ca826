// booster (Arch, Void): pure edits of /etc/booster.yaml.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar {

/// Puts `ours` at the front of the top-level `modules_force_load:` list (comma separated,
/// booster.yaml(5)) unless they already precede every native driver there; drops
/// `forbidden` names; appends the key when missing. Other lines and a trailing comment
/// stay as they were. A value that is not a plain comma list (YAML flow/block sequence)
/// is an error naming the line.
Result<std::string> booster_edit(std::string_view text, std::string_view path,
                                 const std::vector<std::string>& ours,
                                 const std::vector<std::string>& forbidden,
                                 const std::vector<std::string>& natives);

}  // namespace exliar
