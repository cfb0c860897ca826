#include "boot/region.h"

#include "host/text.h"

namespace exliar::boot {

Result<Cmdline> region_cmdline(std::string_view text, const CmdRegion& r) {
  auto c = Cmdline::parse(text.substr(r.begin, r.end - r.begin), r.quoting);
  if (!c) {
    Error e = c.error();
    e.line = r.line;
    return tl::unexpected(e);
  }
  return c;
}

Result<bool> edit_region(std::string& text, const CmdRegion& r, const ParamEdit& e) {
  auto c = region_cmdline(text, r);
  if (!c) return tl::unexpected(c.error());
  auto changed = apply_edit(*c, e);
  if (!changed) {
    Error err = changed.error();
    err.line = r.line;
    return tl::unexpected(err);
  }
  if (*changed) text.replace(r.begin, r.end - r.begin, c->raw());
  return *changed;
}

Result<std::vector<std::string>> region_words(std::string_view text,
                                              const std::vector<CmdRegion>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    auto c = region_cmdline(text, r);
    if (!c) return tl::unexpected(c.error());
    for (auto& w : c->words()) out.push_back(std::move(w));
  }
  return out;
}

Result<bool> edit_joined(std::string& text, const std::vector<CmdRegion>& regions,
                         const ParamEdit& e) {
  if (regions.empty()) return false;
  if (e.op == ParamEdit::Op::remove) {
    bool changed = false;
    for (size_t i = regions.size(); i-- > 0;) {  // last first: earlier offsets stay valid
      auto r = edit_region(text, regions[i], e);
      if (!r) return r;
      changed = changed || *r;
    }
    return changed;
  }
  // Present anywhere in the joined line: nothing to add (for a list key, merge decides).
  size_t eq = e.param.find('=');
  bool list = eq != std::string::npos && is_list_key(std::string_view(e.param).substr(0, eq));
  size_t target = regions.size() - 1;
  for (size_t i = 0; i < regions.size(); ++i) {
    auto c = region_cmdline(text, regions[i]);
    if (!c) return tl::unexpected(c.error());
    if (!list && c->contains(e.param)) return false;
    if (list && c->last_with_key(e.param.substr(0, eq)) >= 0) target = i;
  }
  return edit_region(text, regions[target], e);
}

std::string append_line(std::string_view text, std::string_view line) {
  return append_own_line(text, line);
}

}  // namespace exliar::boot
