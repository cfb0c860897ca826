#include "boot/entry_files.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "boot/shell_file.h"

namespace exliar::boot {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

/// Where a trailing " #..." comment starts in [b, e) (outside kernel quotes), or e.
size_t comment_start(std::string_view t, size_t b, size_t e) {
  bool inq = false;
  for (size_t i = b; i < e; ++i) {
    if (t[i] == '"') inq = !inq;
    if (!inq && t[i] == '#' && i > b && blank(t[i - 1])) return i;
  }
  return e;
}

}  // namespace

std::optional<std::string> LoaderEntry::first(std::string_view text, std::string_view key) const {
  for (const auto& k : keys)
    if (k.key == key) return std::string(text.substr(k.value_begin, k.value_end - k.value_begin));
  return std::nullopt;
}

std::vector<CmdRegion> LoaderEntry::options() const {
  std::vector<CmdRegion> out;
  for (const auto& k : keys)
    if (k.key == "options" && k.separated)
      out.push_back({k.value_begin, k.value_end, k.line, Quoting::kernel});
  return out;
}

Result<LoaderEntry> parse_loader_entry(std::string_view t) {
  if (auto st = check_text(t); !st) return tl::unexpected(st.error());
  LoaderEntry out;
  size_t pos = 0;
  int line = 0;
  while (pos < t.size()) {
    ++line;
    size_t eol = t.find('\n', pos);
    if (eol == std::string_view::npos) eol = t.size();
    size_t i = pos;
    pos = eol + 1;
    while (i < eol && blank(t[i])) ++i;
    if (i == eol || t[i] == '#') continue;
    EntryKey k;
    k.line = line;
    size_t kb = i;
    while (i < eol && !blank(t[i])) ++i;
    k.key = std::string(t.substr(kb, i - kb));
    k.separated = i < eol;
    while (i < eol && blank(t[i])) ++i;
    size_t ve = eol;
    // The Boot Loader Specification defines only whole-line comments; a " #" tail on an
    // options line is kept out of the edited range so new tokens never land after it.
    if (k.key == "options") {
      size_t c = comment_start(t, i, eol);
      k.trailing_comment = c != eol;
      ve = c;
    }
    while (ve > i && blank(t[ve - 1])) --ve;
    k.value_begin = i;
    k.value_end = ve;
    out.keys.push_back(std::move(k));
  }
  for (const auto& r : out.options())
    if (auto c = region_cmdline(t, r); !c) return tl::unexpected(c.error());
  return out;
}

Result<std::vector<ParamEdit>> edit_loader_entry(std::string& text,
                                                 const std::vector<ParamEdit>& edits) {
  std::vector<ParamEdit> applied;
  for (const auto& e : edits) {
    auto entry = parse_loader_entry(text);
    if (!entry) return tl::unexpected(entry.error());
    auto regions = entry->options();
    bool changed = false;
    if (regions.empty() && e.op == ParamEdit::Op::add) {
      if (auto st = check_param(e.param); !st) return tl::unexpected(st.error());
      text = append_line(text, "options " + e.param);
      changed = true;
    } else {
      auto r = edit_joined(text, regions, e);
      if (!r) return tl::unexpected(r.error());
      changed = *r;
    }
    if (changed) applied.push_back(e);
  }
  return applied;
}

Result<CmdRegion> parse_kernel_cmdline_file(std::string_view text) {
  if (auto st = check_text(text); !st) return tl::unexpected(st.error());
  CmdRegion r{0, text.size(), 1, Quoting::kernel};
  if (auto c = region_cmdline(text, r); !c) {
    // Name the line the bad token is on rather than line 1.
    Error e = c.error();
    size_t bad = text.find('"');
    int line = 1;
    for (size_t i = 0; bad != std::string_view::npos && i < bad; ++i) line += text[i] == '\n';
    e.line = line;
    return tl::unexpected(e);
  }
  return r;
}

Result<std::vector<ParamEdit>> edit_kernel_cmdline_file(std::string& text,
                                                        const std::vector<ParamEdit>& edits) {
  std::vector<ParamEdit> applied;
  for (const auto& e : edits) {
    auto r = parse_kernel_cmdline_file(text);
    if (!r) return tl::unexpected(r.error());
    auto changed = edit_joined(text, {*r}, e);
    if (!changed) return tl::unexpected(changed.error());
    if (*changed) applied.push_back(e);
  }
  return applied;
}

Result<std::vector<std::string>> parse_kernelstub_config(std::string_view text) {
  if (auto st = check_text(text); !st) return tl::unexpected(st.error());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    int line = 1;
    for (size_t i = 0; i < e.byte && i < text.size(); ++i) line += text[i] == '\n';
    return fail("not valid JSON: " + std::string(e.what()), "", 0, line);
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range 406: number overflow
    return fail("not valid JSON: " + std::string(e.what()));
  }
  const char* ptr = "/user/kernel_options";
  auto p = nlohmann::json::json_pointer(ptr);
  if (!j.is_object() || !j.contains(p))
    return fail("no user.kernel_options list (kernelstub writes one on first run)", "", 0, 1);
  const auto& opts = j.at(p);
  if (!opts.is_array()) return fail("user.kernel_options is not a list", "", 0, 1);
  std::vector<std::string> out;
  for (const auto& o : opts) {
    if (!o.is_string())
      return fail("user.kernel_options holds a value that is not a string", "", 0, 1);
    out.push_back(o.get<std::string>());
  }
  return out;
}

}  // namespace exliar::boot
