#include "boot/shell_file.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"

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
    if (c == '\r') return check_line_ends(text);
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

namespace {

/// Reserved words that open a compound command (XCU 2.4), and the ones that close one.
bool opens_compound(std::string_view w) {
  return w == "if" || w == "while" || w == "until" || w == "for" || w == "case" || w == "{" ||
         w == "select" || w == "function";
}
bool closes_compound(std::string_view w) {
  return w == "fi" || w == "done" || w == "esac" || w == "}";
}
/// Reserved words after which a command starts again.
bool continues_command(std::string_view w) {
  return w == "then" || w == "do" || w == "else" || w == "elif" || w == "!";
}

class FileParser {
 public:
  explicit FileParser(std::string_view t) : t_(t), s_(t) {}

  Result<ShellFile> run() {
    size_t n = t_.size();
    size_t i = 0;
    while (i < n) {
      char c = t_[i];
      if (c == ' ' || c == '\t') {
        ++i;
      } else if (c == '\\' && i + 1 < n && t_[i + 1] == '\n') {
        i += 2;  // line continuation
      } else if (c == '\n') {
        end_command(Sep::newline);
        ++i;
        if (auto r = skip_heredocs(i); !r)
          return tl::unexpected(r.error());
        else
          i = *r;
      } else if (c == '#') {
        size_t e = t_.find('\n', i);
        i = e == std::string_view::npos ? n : e;
      } else if (c == ';') {
        end_command(Sep::semicolon);
        i += (i + 1 < n && t_[i + 1] == ';') ? 2 : 1;
      } else if (c == '&' || c == '|') {
        bool twice = i + 1 < n && t_[i + 1] == c;
        end_command(twice ? Sep::andor : c == '&' ? Sep::background : Sep::pipe);
        i += twice ? 2 : 1;
      } else if (c == '(') {
        if (at_command_start()) {
          ++depth_;  // subshell
        } else if (i + 1 < n && t_[i + 1] == ')') {
          ++i;  // NAME() function definition: its body is a compound command
          cmd_ = Command{};
        }
        ++i;
      } else if (c == ')') {
        // In a case, ')' ends a pattern and a command starts; elsewhere it closes a
        // subshell. A miscount only ever makes later assignments "uncertain".
        if (case_depth_ > 0 && depth_ <= case_open_depth_) {
          cmd_ = Command{};
          cmd_.cond = true;
        } else {
          end_command(Sep::semicolon);
          --depth_;
        }
        ++i;
      } else if (c == '<' && t_.substr(i, 2) == "<<" && t_.substr(i, 3) != "<<<") {
        auto r = heredoc(i);
        if (!r) return tl::unexpected(r.error());
        i = *r;
      } else {
        auto r = word(i);
        if (!r) return tl::unexpected(r.error());
        i = *r;
      }
    }
    end_command(Sep::newline);
    if (!heredocs_.empty()) return s_.open_error("a here-document", heredocs_.front().at);
    return std::move(out_);
  }

 private:
  enum class Sep { newline, semicolon, andor, background, pipe };
  struct Command {
    std::vector<size_t> assigns;  ///< indexes into out_.assignments
    std::vector<std::string> words;
    int line = 0;
    bool cond = false;       ///< after && / || / |, or the first command of a case arm
    bool exporting = false;  ///< export/readonly: NAME arguments are not commands
  };
  struct Heredoc {
    std::string delim;
    bool strip_tabs;
    size_t at;
  };

  bool at_command_start() const { return cmd_.words.empty() && cmd_.assigns.empty(); }

  void end_command(Sep sep) {
    bool sub = sep == Sep::background || sep == Sep::pipe;
    std::string why;
    if (depth_ != 0 || case_depth_ != 0)
      why = "it is inside a compound command (if, case, a loop, a function or braces)";
    else if (cmd_.cond)
      why = "it runs only if the command before it succeeds or fails (&&, ||)";
    else if (sub)
      why = "it runs in a subshell (a pipeline or background job)";
    for (size_t a : cmd_.assigns) {
      auto& as = out_.assignments[a];
      if (!cmd_.words.empty() && !cmd_.exporting)
        as.uncertain = "it is a prefix assignment: it applies only to the command `" +
                       cmd_.words.front() + "`";
      else if (!why.empty())
        as.uncertain = why;
    }
    if (!cmd_.words.empty()) out_.commands.push_back({cmd_.line, cmd_.words});
    bool next_cond = sep == Sep::andor || sep == Sep::pipe ? true : false;
    cmd_ = Command{};
    cmd_.cond = next_cond;
  }

  /// One word at i (a reserved word, an assignment or a command word).
  Result<size_t> word(size_t i) {
    size_t b = i;
    size_t name_e = i;
    if (name_start(t_[i])) {
      name_e = i + 1;
      while (name_e < t_.size() && name_char(t_[name_e])) ++name_e;
    }
    bool assignment = name_e > b && name_e < t_.size() && t_[name_e] == '=' &&
                      (at_command_start() || cmd_.exporting || cmd_.words.empty());
    if (assignment) {
      if (cmd_.line == 0) cmd_.line = s_.line_of(b);
      auto r = assignment_word(b, name_e);
      if (!r) return r;
      return *r;
    }
    auto e = scan_word(i);
    if (!e) return e;
    std::string w = unquote(t_.substr(b, *e - b));
    if (at_command_start()) {
      if (opens_compound(w)) {
        ++depth_;
        if (w == "case") {
          ++case_depth_;
          case_open_depth_ = depth_;
        }
        return *e;
      }
      if (closes_compound(w)) {
        --depth_;
        if (w == "esac" && case_depth_ > 0) --case_depth_;
        return *e;
      }
      if (continues_command(w)) return *e;
      if (w == "export" || w == "readonly") {
        cmd_.exporting = true;
        cmd_.line = s_.line_of(b);
        return *e;
      }
    }
    if (cmd_.exporting) return *e;  // `export NAME`: marks, does not run anything
    if (cmd_.line == 0) cmd_.line = s_.line_of(b);
    cmd_.words.push_back(std::move(w));
    return *e;
  }

  /// The end of a word starting at i: quotes, $( ), ${ }, backquotes and escapes included.
  Result<size_t> scan_word(size_t i) const {
    size_t n = t_.size(), start = i;
    while (i < n) {
      char c = t_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' ||
          c == ')')
        break;
      if (c == '<' && i > start && t_.substr(i, 2) == "<<" && t_.substr(i, 3) != "<<<")
        break;  // cat<<EOF: the here-document operator ends the word
      Result<size_t> r = i + 1;
      if (c == '"')
        r = s_.skip_double(i);
      else if (c == '\'')
        r = s_.skip_single(i);
      else if (c == '`')
        r = s_.skip_back(i);
      else if (c == '$' && i + 1 < n && (t_[i + 1] == '(' || t_[i + 1] == '{'))
        r = skip_dollar(i);
      else if (c == '\\')
        r = std::min(i + 2, n);
      else if ((c == '>' || c == '<') && i + 1 < n && t_[i + 1] == '&')
        r = i + 2;  // 2>&1: a redirection, not a background job
      if (!r) return r;
      i = *r;
    }
    return i;
  }

  /// $( ... ), $(( ... )) or ${ ... } at i: the position after the matching close.
  Result<size_t> skip_dollar(size_t i) const {
    char open = t_[i + 1], close = open == '(' ? ')' : '}';
    int level = 0;
    for (size_t j = i + 1; j < t_.size();) {
      char c = t_[j];
      Result<size_t> r = j + 1;
      if (c == open) {
        ++level;
      } else if (c == close) {
        if (--level == 0) return j + 1;
      } else if (c == '"') {
        r = s_.skip_double(j);
      } else if (c == '\'' && open == '(') {
        r = s_.skip_single(j);
      } else if (c == '`') {
        r = s_.skip_back(j);
      } else if (c == '\\') {
        r = j + 2;
      }
      if (!r) return r;
      j = *r;
    }
    return s_.open_error(open == '(' ? "a $(" : "a ${", i);
  }

  /// Quote removal, enough to recognise `.`, `unset` and variable names.
  static std::string unquote(std::string_view w) {
    std::string out;
    for (size_t i = 0; i < w.size(); ++i) {
      char c = w[i];
      if (c == '"' || c == '\'') continue;
      if (c == '\\' && i + 1 < w.size()) c = w[++i];
      out += c;
    }
    return out;
  }

  Result<size_t> assignment_word(size_t name_b, size_t name_e) {
    size_t n = t_.size();
    ShellAssignment a;
    a.name = std::string(t_.substr(name_b, name_e - name_b));
    a.line = s_.line_of(name_b);
    size_t i = name_e + 1;
    a.word_begin = i;
    std::vector<Segment> segs;
    while (i < n) {
      char c = t_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' ||
          c == ')' || c == '<' || c == '>')
        break;
      if (c == '"' || c == '\'') {
        auto e = c == '"' ? s_.skip_double(i) : s_.skip_single(i);
        if (!e) return e;
        segs.push_back({c == '"' ? Quoting::shell_double : Quoting::shell_single, i + 1, *e - 1});
        std::string_view inside = t_.substr(i + 1, *e - i - 2);
        if (inside.find('\n') != std::string_view::npos)
          a.unsupported = "the value spans several lines";
        if (c == '"' && (inside.find('`') != std::string_view::npos ||
                         inside.find("$(") != std::string_view::npos))
          a.unsupported = "the value runs a command (` or $( ))";
        i = *e;
        continue;
      }
      if (c == '`' || (c == '$' && i + 1 < n && t_[i + 1] == '(')) {
        a.unsupported = "the value runs a command (` or $( ))";
        auto e = c == '`' ? s_.skip_back(i) : skip_dollar(i);
        if (!e) return e;
        i = *e;
        continue;
      }
      if (c == '\\' && i + 1 < n && t_[i + 1] == '\n') {
        a.unsupported = "the value spans several lines";
        i += 2;
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
    cmd_.assigns.push_back(out_.assignments.size());
    out_.assignments.push_back(std::move(a));
    return i;
  }

  /// `<<WORD` / `<<-WORD` at i: remembers the delimiter; the body follows the line.
  Result<size_t> heredoc(size_t i) {
    size_t at = i;
    i += 2;
    bool strip = i < t_.size() && t_[i] == '-';
    if (strip) ++i;
    while (i < t_.size() && (t_[i] == ' ' || t_[i] == '\t')) ++i;
    auto e = scan_word(i);
    if (!e) return e;
    std::string delim = unquote(t_.substr(i, *e - i));
    if (delim.empty())
      return fail("a here-document without a delimiter word", "", 0, s_.line_of(at));
    heredocs_.push_back({delim, strip, at});
    if (cmd_.line == 0) cmd_.line = s_.line_of(at);
    if (cmd_.words.empty()) cmd_.words.push_back("<<");
    return *e;
  }

  /// At the start of a line: skips the bodies of the here-documents of the line before.
  Result<size_t> skip_heredocs(size_t i) {
    for (const auto& h : heredocs_) {
      for (;;) {
        if (i >= t_.size()) return s_.open_error("a here-document", h.at);
        size_t e = t_.find('\n', i);
        if (e == std::string_view::npos) e = t_.size();
        std::string_view line = t_.substr(i, e - i);
        if (h.strip_tabs)
          while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
        i = std::min(e + 1, t_.size());
        if (line == h.delim) break;
      }
    }
    heredocs_.clear();
    return i;
  }

  std::string_view t_;
  Scanner s_;
  ShellFile out_;
  Command cmd_;
  std::vector<Heredoc> heredocs_;
  int depth_ = 0, case_depth_ = 0, case_open_depth_ = 0;
};

}  // namespace

Result<ShellFile> parse_shell_file(std::string_view t) {
  if (auto st = check_text(t); !st) return tl::unexpected(st.error());
  return FileParser(t).run();
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
