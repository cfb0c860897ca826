// "Did you mean ...?" for mistyped verbs and options.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exliar::ui {

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so that
/// "chekc" is one edit away from "check".
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be a typo: at most 1 edit for
/// words up to 4 characters, 2 up to 8, 3 beyond (git's help.autocorrect uses a similar
/// length-scaled cut-off). A candidate that starts with `word` (an abbreviation) also
/// counts. Ties go to the earlier candidate.
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates);

}  // namespace exliar::ui
