// A byte range of a file that holds (part of) a kernel command line, and the edit of
// one such range in place: the bytes outside it are never touched.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "boot/cmdline.h"
#include "boot/params.h"

namespace exliar::boot {

struct CmdRegion {
  size_t begin = 0, end = 0;
  int line = 0;  ///< 1-based line of the region, for errors
  Quoting quoting = Quoting::kernel;
};

/// Parses the region; errors carry the region's line.
Result<Cmdline> region_cmdline(std::string_view text, const CmdRegion& r);
/// Applies e to the region of text in place; returns whether the text changed.
Result<bool> edit_region(std::string& text, const CmdRegion& r, const ParamEdit& e);
/// Kernel-level words of several regions, concatenated the way a boot loader joins them.
Result<std::vector<std::string>> region_words(std::string_view text,
                                              const std::vector<CmdRegion>& rs);

/// Edits a file whose command line is the concatenation of `regions` (loader entry
/// options lines, /etc/kernel/cmdline): an add goes into the region that already holds
/// the key (comma lists) or the last one, unless the token is present; a remove applies
/// to every region. Regions must be in file order. Returns whether the text changed.
Result<bool> edit_joined(std::string& text, const std::vector<CmdRegion>& regions,
                         const ParamEdit& e);

/// Adds a line (with its newline) at the end of text; a text without a final newline
/// first gets one, since the new line must start on a line of its own.
std::string append_line(std::string_view text, std::string_view line);

}  // namespace exliar::boot
