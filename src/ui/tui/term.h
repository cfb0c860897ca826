// The ncurses adapter: reads keys, blits view(Model) and redraws on resize.
#pragma once

#include "ui/tui/model.h"

namespace exliar::ui::tui {

/// Runs the UI on the terminal until the user leaves; color=false draws with bold and
/// reverse video only (NO_COLOR, --color never, the Linux console without colours).
/// Returns 0.
int run_terminal(const TuiData& d, bool color);

}  // namespace exliar::ui::tui
