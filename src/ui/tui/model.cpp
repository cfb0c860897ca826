#include "ui/tui/model.h"

#include <algorithm>

namespace exliar::ui::tui {

namespace {

size_t body_height(int height) { return height > 3 ? static_cast<size_t>(height - 3) : 1; }

Attr status_attr(const std::string& s) {
  return s == "blocked" ? Attr::bad : s == "warnings" ? Attr::warn : Attr::good;
}

std::string bind_label(const std::string& b) {
  return b.empty() ? "chosen by exliar" : b == "ids" ? "by vendor:device IDs" : "by PCI address";
}

const char* title_of(View v) {
  switch (v) {
    case View::summary:
      return "Machine";
    case View::gpus:
      return "GPUs";
    case View::detail:
      return "GPU details";
    case View::plan:
      return "Plan (dry run)";
    case View::confirm:
      return "Confirm";
    case View::result:
      return "Result";
    case View::status:
      return "Transactions";
    case View::confirm_rollback:
      return "Confirm rollback";
  }
  return "";
}

const char* keys_of(View v) {
  switch (v) {
    case View::summary:
      return "Enter GPUs  Tab next  s transactions  ? help  q quit";
    case View::gpus:
      return "Up/Down select  Enter details  p plan  Esc back  ? help  q quit";
    case View::detail:
      return "Up/Down scroll  p plan  Esc back  ? help  q quit";
    case View::plan:
      return "Up/Down scroll  b bind  a ACS  Enter apply  Esc back  q quit";
    case View::confirm:
    case View::confirm_rollback:
      return "y yes  n/Esc no  q quit without changing anything";
    case View::result:
      return "Enter GPUs  s transactions  q quit";
    case View::status:
      return "Up/Down select  Enter roll back  Esc back  q quit";
  }
  return "";
}

std::vector<Line> help_lines() {
  return {{"Keys", Attr::bold},
          {"  Up/Down or k/j   move or scroll; PgUp/PgDn scroll a page"},
          {"  Enter            open / go on;  Esc, Left, h or Backspace: back"},
          {"  Tab              Machine -> GPUs -> Transactions"},
          {"  p                plan for the selected GPU (a dry run: nothing changes)"},
          {"  b, a             plan options: bind mode, ACS override"},
          {"  s                transactions (status, rollback)"},
          {"  ?                this help;  q  leave without changing anything"},
          {""},
          {"Nothing changes until you answer y in a confirmation that lists every change."},
          {"The same plan as `exliar plan`, applied as the same journaled transaction."}};
}

std::vector<Line> body_of(const Model& m, const TuiData& d) {
  std::vector<Line> b;
  switch (m.view) {
    case View::summary: {
      size_t w = 0;
      for (const auto& [k, v] : d.summary) w = std::max(w, k.size());
      for (const auto& [k, v] : d.summary)
        b.push_back({k + std::string(w + 2 - k.size(), ' ') + v});
      b.push_back({""});
      b.push_back({"Recommended: " + d.recommendation, Attr::bold});
      break;
    }
    case View::gpus:
      if (d.gpus.empty()) b.push_back({"No GPU found on this system."});
      for (size_t i = 0; i < d.gpus.size(); ++i) {
        const auto& g = d.gpus[i];
        std::string head = std::string(i == m.gpu ? "> " : "  ") + g.address + "  " + g.name +
                           " (" + g.tags + ")" + (g.recommended ? "  * recommended" : "");
        b.push_back({head, i == m.gpu      ? Attr::selected
                           : g.recommended ? Attr::bold
                                           : Attr::normal});
        b.push_back({"      " + g.summary, status_attr(g.status)});
      }
      b.push_back({""});
      b.push_back({"Recommended: " + d.recommendation, Attr::bold});
      break;
    case View::detail:
      if (m.gpu < d.gpus.size()) {
        const auto& g = d.gpus[m.gpu];
        b.push_back({g.address + "  " + g.name + " (" + g.tags + ")", Attr::bold});
        b.push_back({"Verdict: " + g.summary, status_attr(g.status)});
        b.insert(b.end(), g.detail.begin(), g.detail.end());
      }
      break;
    case View::plan:
      b.push_back({"[b] bind: " + bind_label(m.bind)});
      b.push_back({std::string("[a] ACS override: ") +
                       (m.acs ? "on (WARNING: weakens isolation between devices; needs a "
                                "patched kernel)"
                              : "off"),
                   m.acs ? Attr::warn : Attr::normal});
      b.push_back({m.plan.title, m.plan.ok ? Attr::bold : Attr::bad});
      if (m.plan.in_effect) b.push_back({"Already in effect: applying would change nothing."});
      b.insert(b.end(), m.plan.body.begin(), m.plan.body.end());
      break;
    case View::confirm:
      b.push_back(
          {"Apply these " + std::to_string(m.plan.changes.size()) + " steps to " + d.root + "?",
           Attr::bold});
      for (const auto& c : m.plan.changes) b.push_back({"  " + c});
      b.push_back({""});
      b.push_back({"Every file is backed up first; `exliar rollback` restores it byte for byte."});
      b.push_back(
          {"y: apply now    n or Esc: back to the plan    q: quit, nothing changes", Attr::bold});
      break;
    case View::result:
      b = m.result;
      break;
    case View::status:
      if (m.txs.empty()) b.push_back({"No transactions: exliar has changed nothing here."});
      for (size_t i = 0; i < m.txs.size(); ++i) {
        const auto& t = m.txs[i];
        b.push_back(
            {std::string(i == m.tx ? "> " : "  ") + t.id + "  " + t.state + "  " + t.command,
             i == m.tx ? Attr::selected : Attr::normal});
      }
      break;
    case View::confirm_rollback:
      if (m.tx < m.txs.size()) {
        b.push_back({"Roll back transaction " + m.txs[m.tx].id + " (" + m.txs[m.tx].command +
                         ") on " + d.root + "?",
                     Attr::bold});
        b.push_back({"Every file it changed is restored byte for byte."});
        b.push_back({"y: roll back    n or Esc: back    q: quit, nothing changes", Attr::bold});
      }
      break;
  }
  return b;
}

void refresh_plan(Model& m, const TuiData& d) {
  if (m.gpu < d.gpus.size() && d.plan) m.plan = d.plan(d.gpus[m.gpu].address, m.bind, m.acs);
  m.scroll = 0;
}

}  // namespace

namespace {

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte offset of code point n.
size_t offset_of(const std::string& s, size_t n) {
  size_t cps = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (cps++ == n) return i;
  }
  return s.size();
}

// Long lines wrap at spaces (continuations indented under the text) so that nothing the
// pipeline says is cut off at 80 columns.
void wrap_into(const Line& l, size_t width, std::vector<Line>& out) {
  std::string rest = l.text;
  size_t indent = rest.find_first_not_of(' ');
  indent = indent == std::string::npos ? 0 : std::min(indent + 2, width / 2);
  bool first = true;
  while (true) {
    std::string pre = first ? "" : std::string(indent, ' ');
    size_t room = width > pre.size() ? width - pre.size() : 1;
    if (code_points(rest) <= room) {
      out.push_back({pre + rest, l.attr});
      return;
    }
    size_t cut = offset_of(rest, room);
    size_t space = rest.rfind(' ', cut);
    if (space == std::string::npos || space <= rest.find_first_not_of(' ')) space = cut;
    out.push_back({pre + rest.substr(0, space), l.attr});
    rest = rest.substr(space);
    rest.erase(0, rest.find_first_not_of(' '));
    first = false;
    if (rest.empty()) return;
  }
}

}  // namespace

std::string fit(const std::string& s, size_t width) {
  if (code_points(s) <= width) return s;
  if (width == 0) return "";
  return s.substr(0, offset_of(s, width - 1)) + "\xE2\x80\xA6";
}

Model start(const TuiData& d) {
  Model m;
  for (size_t i = 0; i < d.gpus.size(); ++i)
    if (d.gpus[i].recommended) m.gpu = i;
  return m;
}

Model update(Model m, Key k, const TuiData& d, int height) {
  if (k == Key::quit) {
    m.done = true;
    return m;
  }
  if (k == Key::help) {
    m.help = !m.help;
    return m;
  }
  if (m.help) {  // any key closes the help
    m.help = false;
    return m;
  }
  size_t page = body_height(height);
  auto scroll = [&] {
    if (k == Key::down) ++m.scroll;
    if (k == Key::up && m.scroll > 0) --m.scroll;
    if (k == Key::page_down) m.scroll += page;
    if (k == Key::page_up) m.scroll = m.scroll > page ? m.scroll - page : 0;
  };
  auto go = [&](View v) {
    m.view = v;
    m.scroll = 0;
  };
  auto to_status = [&] {
    m.back_to = m.view;
    m.txs = d.transactions ? d.transactions() : std::vector<TxRow>{};
    m.tx = m.txs.empty() ? 0 : m.txs.size() - 1;
    go(View::status);
  };
  switch (m.view) {
    case View::summary:
      if (k == Key::enter || k == Key::tab) go(View::gpus);
      if (k == Key::status) to_status();
      break;
    case View::gpus:
      if (k == Key::down && m.gpu + 1 < d.gpus.size()) ++m.gpu;
      if (k == Key::up && m.gpu > 0) --m.gpu;
      if (k == Key::enter && !d.gpus.empty()) go(View::detail);
      if (k == Key::back) go(View::summary);
      if (k == Key::tab || k == Key::status) to_status();
      if (k == Key::plan && !d.gpus.empty()) {
        m.back_to = View::gpus;
        go(View::plan);
        refresh_plan(m, d);
      }
      break;
    case View::detail:
      scroll();
      if (k == Key::back) go(View::gpus);
      if (k == Key::plan) {
        m.back_to = View::detail;
        go(View::plan);
        refresh_plan(m, d);
      }
      break;
    case View::plan:
      scroll();
      if (k == Key::back) go(m.back_to);
      if (k == Key::bind || k == Key::tab) {
        m.bind = m.bind.empty() ? "ids" : m.bind == "ids" ? "address" : "";
        refresh_plan(m, d);
      }
      if (k == Key::acs) {
        m.acs = !m.acs;
        refresh_plan(m, d);
      }
      if (k == Key::enter && m.plan.ok && !m.plan.in_effect && !m.plan.changes.empty())
        go(View::confirm);
      break;
    case View::confirm:
      if (k == Key::yes) {
        m.result = d.apply ? d.apply(d.gpus[m.gpu].address, m.bind, m.acs) : std::vector<Line>{};
        go(View::result);
      }
      if (k == Key::no || k == Key::back) go(View::plan);
      break;
    case View::result:
      scroll();
      if (k == Key::enter || k == Key::back) go(View::gpus);
      if (k == Key::status || k == Key::tab) to_status();
      break;
    case View::status:
      if (k == Key::down && m.tx + 1 < m.txs.size()) ++m.tx;
      if (k == Key::up && m.tx > 0) --m.tx;
      if (k == Key::back) go(m.back_to == View::status ? View::summary : m.back_to);
      if (k == Key::tab) go(View::summary);
      if (k == Key::enter && m.tx < m.txs.size() && m.txs[m.tx].state != "rolled back")
        go(View::confirm_rollback);
      break;
    case View::confirm_rollback:
      if (k == Key::yes && m.tx < m.txs.size()) {
        m.result = d.rollback ? d.rollback(m.txs[m.tx].id) : std::vector<Line>{};
        go(View::result);
      }
      if (k == Key::no || k == Key::back) go(View::status);
      break;
  }
  return m;
}

Screen view(const Model& m, const TuiData& d, int width, int height) {
  Screen s;
  s.width = std::max(width, 20);
  s.height = std::max(height, 4);
  size_t w = static_cast<size_t>(s.width);
  std::string title = std::string(" exliar | ") + (m.help ? "Help" : title_of(m.view));
  s.rows.push_back({fit(title, w), Attr::title});
  std::vector<Line> body;
  for (const auto& l : m.help ? help_lines() : body_of(m, d)) wrap_into(l, w > 1 ? w - 1 : 1, body);
  size_t h = body_height(s.height);
  // Keep the selection visible in lists; scroll elsewhere, clamped to the end.
  size_t first = m.scroll;
  if (m.view == View::gpus && !m.help) first = (m.gpu * 2 + 2 > h) ? m.gpu * 2 + 2 - h : 0;
  if (m.view == View::status && !m.help) first = m.tx + 1 > h ? m.tx + 1 - h : 0;
  if (body.size() <= h)
    first = 0;
  else
    first = std::min(first, body.size() - h);
  for (size_t i = 0; i < h; ++i) {
    if (first + i < body.size())
      s.rows.push_back({fit(" " + body[first + i].text, w), body[first + i].attr});
    else
      s.rows.push_back({""});
  }
  std::string more = body.size() > h ? " (" + std::to_string(first + 1) + "-" +
                                           std::to_string(std::min(first + h, body.size())) + "/" +
                                           std::to_string(body.size()) + ")"
                                     : "";
  s.rows.push_back({fit(more, w), Attr::dim});
  s.rows.push_back({fit(" " + std::string(keys_of(m.view)), w), Attr::title});
  return s;
}

}  // namespace exliar::ui::tui
