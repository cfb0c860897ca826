// dracut (Fedora, RHEL, openSUSE, Void, EndeavourOS...): pure text functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar {

/// Removes `forbidden` module names from add_drivers / force_drivers / drivers /
/// filesystems... assignments (every value that lists modules); other bytes stay.
Result<std::string> dracut_remove_drivers(std::string_view text, std::string_view path,
                                          const std::vector<std::string>& forbidden);
/// Problems dracut itself would only warn about: `+=` lists without the surrounding spaces
/// dracut.conf(5) asks for, VFIO modules in omit_drivers.
Result<std::vector<std::string>> dracut_lint(std::string_view text, std::string_view path);
/// exliar's own /etc/dracut.conf.d/exliar-vfio.conf.
std::string dracut_conf(const std::vector<std::string>& ours,
                        const std::vector<std::string>& files);

}  // namespace exliar
