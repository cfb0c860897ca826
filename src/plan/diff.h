// Unified diffs of before/after text, for `plan`, `apply` and `status` output.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace exliar {

struct DiffOptions {
  int context = 3;     ///< unchanged lines around each change
  bool color = false;  ///< ANSI colours (only when Output says the terminal wants them)
};

/// `diff -u`-style text with "--- a/PATH" / "+++ b/PATH" headers; a missing side is shown as
/// /dev/null. Returns "" when both sides are equal. A file whose last line has no newline
/// gets "\ No newline at end of file", like diff(1).
std::string unified_diff(std::string_view path, const std::optional<std::string>& before,
                         const std::optional<std::string>& after, const DiffOptions& opts = {});

}  // namespace exliar
