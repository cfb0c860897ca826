#include "boot/shell_file.h"

#include <fmt/format.h>

#include <algorithm>

namespace exliar::boot {

namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view t) : t_(t) {
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i] == '\n') nl_.push_back(i);
  }
  int line_of(size_t pos) const {
    return 1 + static_cast<int>(std::lower_bound(nl_.begin(), nl_.end(), pos) - nl_.begin());
  }
  tl::unexpected<Error> open_error(const char* what, size_t at) const {
    return fail(fmt::format("{} opened here is never closed", what), "", 0, line_of(at));
  }
  /// pos at the opening quote; returns the position after the closing one.
  Result<size_t> skip_double(size_t pos) const {
    size_t i = pos + 1;
    while (i < t_.size()) {
      char c = t_[i];
      if (c == '\\') {
        i += 2;
      } else if (c == '"') {
        return i + 1;
      } else if (c == '`') {
        auto r = skip_back(i);
        if (!r) return r;
        i = *r;
      } else {
        ++i;
      }
    }
    return open_error("a double quote", pos);
  }
  Result<size_t> skip_single(size_t pos) const {
    size_t e = t_.find('\'', pos + 1);
    if (e == std::string_view::npos) return open_error("a single quote", pos);
    return e + 1;
  }
  Result<size_t> skip_back(size_t pos) const {
    for (size_t i = pos + 1; i < t_.size(); ++i) {
      if (t_[i] == '\\') {
        ++i;
      } else if (t_[i] == '`') {
        return i + 1;
      }
    }
    return open_error("a backquote", pos);
  }
  /// Skips to the unquoted end of the current line (returns the position of '\n' or EOF).
  Result<size_t> skip_rest(size_t i) const {
    bool word_start = true;
    while (i < t_.size()) {
      char c = t_[i];
      if (c == '\n') return i;
      if (c == '#' && word_start) {
        size_t e = t_.find('\n', i);
        return e == std::string_view::npos ? t_.size() : e;
      }
      Result<size_t> r = i + 1;
      if (c == '"')
        r = skip_double(i);
      else if (c == '\'')
        r = skip_single(i);
      else if (c == '`')
        r = skip_back(i);
      else if (c == '\\')
        r = i + 2;
      if (!r) return r;
      word_start = c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|';
      i = *r;
    }
    return t_.size();
  }

  std::string_view t_;
  std::vector<size_t> nl_;
};

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

struct Segment {
  Quoting q;
  size_t begin, end;  // inside the quotes
};

}  // namespace

Status check_text(std::string_view text) {
  if (text.size() > kMaxShellFileBytes)
    return fail(fmt::format("the file is larger than {} bytes; this is not a boot configuration",
                            kMaxShellFileBytes));
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r')
      return fail(
          "CR line end (DOS/Windows format); the shell and the boot loader would read the "
          "CR as part of the value. Convert the file with dos2unix first",
          "", 0, line);
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\t' && c != '\f' && c != '\v') || c == 0x7f)
      return fail(
          fmt::format("binary byte 0x{:02x} at column {}; this does not look like a text file", c,
                      i - line_start + 1),
          "", 0, line);
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if (i - line_start >= kMaxLineBytes) {
      return fail(fmt::format("line longer than {} bytes", kMaxLineBytes), "", 0, line);
    }
  }
  return {};
}

Result<ShellFile> parse_shell_file(std::string_view t) {
  if (auto st = check_text(t); !st) return tl::unexpected(st.error());
  Scanner s(t);
  ShellFile out;
  size_t i = 0, n = t.size();
  while (i < n) {
    while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
    if (i >= n) break;
    if (t[i] == '\n') {
      ++i;
      continue;
    }
    size_t cmd = i;
    if (t.substr(i, 7) == "export " || t.substr(i, 7) == "export\t") {
      i += 7;
      while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
    }
    size_t name_b = i;
    if (i < n && name_start(t[i])) {
      while (i < n && name_char(t[i])) ++i;
    }
    if (i > name_b && i < n && t[i] == '=') {
      ShellAssignment a;
      a.name = std::string(t.substr(name_b, i - name_b));
      a.line = s.line_of(name_b);
      a.word_begin = ++i;
      std::vector<Segment> segs;
      while (i < n) {
        char c = t[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|') break;
        if (c == '"' || c == '\'') {
          auto e = c == '"' ? s.skip_double(i) : s.skip_single(i);
          if (!e) return tl::unexpected(e.error());
          segs.push_back({c == '"' ? Quoting::shell_double : Quoting::shell_single, i + 1, *e - 1});
          std::string_view inside = t.substr(i + 1, *e - i - 2);
          if (inside.find('\n') != std::string_view::npos)
            a.unsupported = "the value spans several lines";
          if (c == '"' && (inside.find('`') != std::string_view::npos ||
                           inside.find("$(") != std::string_view::npos))
            a.unsupported = "the value runs a command (` or $( ))";
          i = *e;
          continue;
        }
        if (c == '`' || (c == '$' && i + 1 < n && t[i + 1] == '(')) {
          a.unsupported = "the value runs a command (` or $( ))";
          auto e = c == '`' ? s.skip_back(i) : s.skip_rest(i);
          if (!e) return tl::unexpected(e.error());
          i = *e;
          continue;
        }
        if (segs.empty() || segs.back().q != Quoting::shell_bare || segs.back().end != i)
          segs.push_back({Quoting::shell_bare, i, i});
        i += (c == '\\' && i + 1 < n) ? 2 : 1;
        segs.back().end = std::min(i, n);
      }
      a.word_end = i;
      if (segs.empty()) {
        a.region_begin = a.region_end = a.word_begin;
        a.quoting = Quoting::shell_bare;
      } else {
        a.region_begin = segs[0].begin;
        a.region_end = segs[0].end;
        a.quoting = segs[0].q;
        if (segs.size() > 1 && a.unsupported.empty())
          a.unsupported = "the value is made of several quoted or unquoted parts";
      }
      out.assignments.push_back(std::move(a));
    } else {
      i = cmd;
    }
    auto e = s.skip_rest(i);
    if (!e) return tl::unexpected(e.error());
    i = *e;
  }
  return out;
}

namespace {

/// Walks the region, calling on_ref(name) for every unescaped $NAME / ${NAME} and
/// out(literal) for everything else with shell quoting undone.
template <class Ref, class Lit>
Status walk_region(std::string_view r, Quoting q, Ref&& on_ref, Lit&& out) {
  for (size_t i = 0; i < r.size(); ++i) {
    char c = r[i];
    if (q == Quoting::shell_single) {
      out(c);
      continue;
    }
    if (c == '\\' && i + 1 < r.size()) {
      char d = r[i + 1];
      bool special =
          q == Quoting::shell_bare || d == '"' || d == '\\' || d == '$' || d == '`' || d == '\n';
      if (!special) out(c);
      if (d != '\n') out(d);
      ++i;
      continue;
    }
    if (c == '$' && i + 1 < r.size()) {
      size_t b = i + 1, e;
      bool braced = r[b] == '{';
      if (braced) {
        e = r.find('}', b);
        if (e == std::string_view::npos) return fail("unterminated ${ in the value");
        std::string_view name = r.substr(b + 1, e - b - 1);
        if (name.empty() || !std::all_of(name.begin(), name.end(), name_char))
          return fail(fmt::format("unsupported expansion ${{{}}}", name));
        if (auto st = on_ref(std::string(name)); !st) return st;
        i = e;
        continue;
      }
      e = b;
      while (e < r.size() && name_char(r[e])) ++e;
      if (e > b && name_start(r[b])) {
        if (auto st = on_ref(std::string(r.substr(b, e - b))); !st) return st;
        i = e - 1;
        continue;
      }
    }
    out(c);
  }
  return {};
}

}  // namespace

Result<std::string> expand_value(std::string_view text, const ShellAssignment& a,
                                 const ShellEnv& env) {
  if (!a.unsupported.empty()) return fail(a.unsupported, "", 0, a.line);
  std::string v;
  auto r = text.substr(a.region_begin, a.region_end - a.region_begin);
  auto st = walk_region(
      r, a.quoting,
      [&](const std::string& name) -> Status {
        auto it = env.find(name);
        if (it == env.end())
          return fail(
              fmt::format("{} refers to ${}, which is not set before this line", a.name, name), "",
              0, a.line);
        v += it->second;
        return {};
      },
      [&](char c) { v += c; });
  if (!st) {
    Error e = st.error();
    if (e.line == 0) e.line = a.line;
    return tl::unexpected(e);
  }
  return v;
}

std::vector<std::string> referenced_names(std::string_view text, const ShellAssignment& a) {
  std::vector<std::string> names;
  auto r = text.substr(a.region_begin, a.region_end - a.region_begin);
  (void)walk_region(
      r, a.quoting,
      [&](const std::string& n) -> Status {
        names.push_back(n);
        return {};
      },
      [](char) {});
  return names;
}

}  // namespace exliar::boot
