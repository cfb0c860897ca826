// mkinitcpio (Arch and derivatives): pure edits of mkinitcpio.conf text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar {

/// Makes the last `MODULES=` assignment start with `ours` (in that order) unless every one
/// of them already comes before the first native driver; removes `forbidden` words.
/// Handles multi-line arrays with comments and the old string form MODULES="...". Adds a
/// MODULES=(...) line when the file has none. Bytes outside the words touched stay.
Result<std::string> mkinitcpio_edit_modules(std::string_view text, std::string_view path,
                                            const std::vector<std::string>& ours,
                                            const std::vector<std::string>& forbidden,
                                            const std::vector<std::string>& natives);
/// Appends the files missing from the last `FILES=` array (adds a FILES=(...) line if none).
Result<std::string> mkinitcpio_add_files(std::string_view text, std::string_view path,
                                         const std::vector<std::string>& files);
/// Removes only `forbidden` words from every MODULES assignment (used for drop-ins and
/// for the main file when exliar writes its own drop-in).
Result<std::string> mkinitcpio_remove_modules(std::string_view text, std::string_view path,
                                              const std::vector<std::string>& forbidden);
/// exliar's own /etc/mkinitcpio.conf.d drop-in.
std::string mkinitcpio_dropin(const std::vector<std::string>& ours,
                              const std::vector<std::string>& files);

}  // namespace exliar
