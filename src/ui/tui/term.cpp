#include "ui/tui/term.h"

#include <curses.h>

#include <clocale>

namespace exliar::ui::tui {

namespace {

Key key_of(int c) {
  switch (c) {
    case KEY_UP:
    case 'k':
      return Key::up;
    case KEY_DOWN:
    case 'j':
      return Key::down;
    case KEY_PPAGE:
      return Key::page_up;
    case KEY_NPAGE:
    case ' ':
      return Key::page_down;
    case '\n':
    case '\r':
    case KEY_ENTER:
    case KEY_RIGHT:
    case 'l':
      return Key::enter;
    case 27:  // Esc
    case KEY_LEFT:
    case KEY_BACKSPACE:
    case 127:
    case 'h':
      return Key::back;
    case '\t':
      return Key::tab;
    case '?':
      return Key::help;
    case 'q':
    case 'Q':
      return Key::quit;
    case 'p':
      return Key::plan;
    case 's':
      return Key::status;
    case 'y':
    case 'Y':
      return Key::yes;
    case 'n':
    case 'N':
      return Key::no;
    case 'b':
      return Key::bind;
    case 'a':
      return Key::acs;
    default:
      return Key::other;
  }
}

int attr_of(Attr a, bool color) {
  switch (a) {
    case Attr::bold:
      return A_BOLD;
    case Attr::selected:
      return A_REVERSE;
    case Attr::title:
      return color ? COLOR_PAIR(1) | A_BOLD : A_REVERSE;
    case Attr::good:
      return color ? COLOR_PAIR(2) : A_NORMAL;
    case Attr::warn:
      return color ? COLOR_PAIR(3) : A_BOLD;
    case Attr::bad:
      return color ? COLOR_PAIR(4) | A_BOLD : A_BOLD;
    case Attr::dim:
      return A_DIM;
    default:
      return A_NORMAL;
  }
}

void blit(const Screen& s, bool color) {
  erase();
  for (int y = 0; y < s.height && y < static_cast<int>(s.rows.size()); ++y) {
    const Line& l = s.rows[static_cast<size_t>(y)];
    int a = attr_of(l.attr, color);
    attron(a);
    mvaddnstr(y, 0, l.text.c_str(), -1);
    // Title bars and the selection span the whole width.
    if (l.attr == Attr::title || l.attr == Attr::selected)
      for (int x = getcurx(stdscr); x < s.width && getcury(stdscr) == y; ++x) addch(' ');
    attroff(a);
  }
  refresh();
}

}  // namespace

int run_terminal(const TuiData& d, bool color) {
  std::setlocale(LC_ALL, "");
  initscr();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  set_escdelay(25);  // Esc is "back"; do not wait a second for an escape sequence
  if (color && has_colors()) {
    start_color();
    use_default_colors();
    init_pair(1, COLOR_WHITE, COLOR_BLUE);
    init_pair(2, COLOR_GREEN, -1);
    init_pair(3, COLOR_YELLOW, -1);
    init_pair(4, COLOR_RED, -1);
  } else {
    color = false;
  }
  Model m = start(d);
  while (!m.done) {
    int h, w;
    getmaxyx(stdscr, h, w);
    blit(view(m, d, w, h), color);
    int c = getch();
    if (c == KEY_RESIZE || c == ERR) continue;  // redrawn at the new size above
    m = update(std::move(m), key_of(c), d, h);
  }
  endwin();
  return 0;
}

}  // namespace exliar::ui::tui
