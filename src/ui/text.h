// Plain-text rendering: colour (only when Output says so) and aligned tables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exliar::ui {

enum class Color { none, red, green, yellow, blue, magenta, cyan, bold, dim };

std::string paint(bool enabled, Color c, std::string_view text);

/// Columns padded to the widest cell (UTF-8 aware); the last column is not padded.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         std::string_view indent = "");

/// Display width of UTF-8 text (code points; exliar prints no wide glyphs).
size_t display_width(std::string_view s);

}  // namespace exliar::ui
