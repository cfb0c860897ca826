#include "modules/initramfs/shell_assign.h"

#include <algorithm>

namespace exliar {

namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

class Lexer {
 public:
  Lexer(std::string_view t, std::string_view path) : t_(t), path_(path) {}

  Result<std::vector<ShAssign>> run() {
    std::vector<ShAssign> out;
    while (pos_ < t_.size()) {
      while (pos_ < t_.size() && is_blank(t_[pos_])) ++pos_;
      if (pos_ >= t_.size()) break;
      char c = t_[pos_];
      if (c == '\n' || c == ';') {
        advance();
        continue;
      }
      if (c == '#') {
        skip_comment();
        continue;
      }
      if (is_name_start(c)) {
        size_t b = pos_;
        size_t e = pos_;
        while (e < t_.size() && is_name_char(t_[e])) ++e;
        bool append = e + 1 < t_.size() && t_[e] == '+' && t_[e + 1] == '=';
        if (append || (e < t_.size() && t_[e] == '=')) {
          ShAssign a;
          a.name = std::string(t_.substr(b, e - b));
          a.append = append;
          a.line = line_;
          a.begin = b;
          pos_ = e + (append ? 2 : 1);
          auto r = value(a);
          if (!r) return tl::unexpected(r.error());
          out.push_back(std::move(a));
          continue;
        }
      }
      if (auto r = skip_statement(); !r) return tl::unexpected(r.error());
    }
    return out;
  }

 private:
  void advance() {
    if (t_[pos_] == '\n') ++line_;
    ++pos_;
  }
  void skip_comment() {
    while (pos_ < t_.size() && t_[pos_] != '\n') ++pos_;
  }
  tl::unexpected<Error> unclosed(const char* what, int line) {
    return fail(std::string(what) + " opened here is never closed", std::string(path_), 0, line);
  }

  /// Reads a quoted run starting at the quote; appends its unquoted text to val.
  Status quoted(std::string& val) {
    char q = t_[pos_];
    int start_line = line_;
    advance();
    while (pos_ < t_.size() && t_[pos_] != q) {
      if (q == '"' && t_[pos_] == '\\' && pos_ + 1 < t_.size()) {
        advance();
        if (t_[pos_] != '\n') val += t_[pos_];
        advance();
        continue;
      }
      val += t_[pos_];
      advance();
    }
    if (pos_ >= t_.size()) return unclosed(q == '"' ? "double quote" : "single quote", start_line);
    advance();  // closing quote
    return {};
  }

  /// One word of an array or a bare value: ends at whitespace, ')' or ';'.
  Result<ShWord> word() {
    ShWord w;
    w.begin = pos_;
    while (pos_ < t_.size()) {
      char c = t_[pos_];
      if (is_blank(c) || c == '\n' || c == ')' || c == ';') break;
      if (c == '(' && in_array_)
        return fail("unexpected '(' inside an array (bash rejects it); is the array above closed?",
                    std::string(path_), 0, line_);
      if (c == '"' || c == '\'') {
        if (auto r = quoted(w.value); !r) return tl::unexpected(r.error());
        continue;
      }
      if (c == '\\' && pos_ + 1 < t_.size()) {
        advance();
        if (t_[pos_] != '\n') w.value += t_[pos_];
        advance();
        continue;
      }
      w.value += c;
      advance();
    }
    w.end = pos_;
    return w;
  }

  Status value(ShAssign& a) {
    if (pos_ < t_.size() && t_[pos_] == '(') {
      a.form = ShAssign::Form::array;
      int start_line = line_;
      in_array_ = true;
      advance();
      a.open = pos_;
      for (;;) {
        while (pos_ < t_.size() && (is_blank(t_[pos_]) || t_[pos_] == '\n')) advance();
        if (pos_ >= t_.size()) return unclosed(("array " + a.name + "=(").c_str(), start_line);
        if (t_[pos_] == '#') {
          skip_comment();
          continue;
        }
        if (t_[pos_] == ')') break;
        auto w = word();
        if (!w) return tl::unexpected(w.error());
        if (w->begin == w->end) {  // a lone ';' inside an array: not valid bash
          return fail("unexpected '" + std::string(1, t_[pos_]) + "' inside " + a.name + "=(...)",
                      std::string(path_), 0, line_);
        }
        a.words.push_back(std::move(*w));
      }
      in_array_ = false;
      a.close = pos_;
      advance();
      a.end = pos_;
      return {};
    }
    if (pos_ < t_.size() && (t_[pos_] == '"' || t_[pos_] == '\'')) {
      a.form = t_[pos_] == '"' ? ShAssign::Form::dquote : ShAssign::Form::squote;
      a.open = pos_ + 1;
      std::string val;
      if (auto r = quoted(val); !r) return r;
      a.close = pos_ - 1;
      a.end = pos_;
      // Words of the string, with spans in the file (escapes are rare in module lists;
      // a word containing one keeps its raw spelling as value).
      size_t i = a.open;
      while (i < a.close) {
        while (i < a.close && (is_blank(t_[i]) || t_[i] == '\n')) ++i;
        if (i >= a.close) break;
        size_t b = i;
        while (i < a.close && !is_blank(t_[i]) && t_[i] != '\n') ++i;
        a.words.push_back(ShWord{b, i, std::string(t_.substr(b, i - b))});
      }
      return {};
    }
    a.form = ShAssign::Form::bare;
    a.open = pos_;
    auto w = word();
    if (!w) return tl::unexpected(w.error());
    a.close = pos_;
    a.end = pos_;
    if (w->begin != w->end) a.words.push_back(std::move(*w));
    return {};
  }

  /// Any other statement: skip to the end of the line, through quotes that span lines.
  Status skip_statement() {
    bool word_start = true;
    while (pos_ < t_.size() && t_[pos_] != '\n') {
      char c = t_[pos_];
      if (c == '#' && word_start) {
        skip_comment();
        break;
      }
      if (c == '"' || c == '\'') {
        std::string ignored;
        if (auto r = quoted(ignored); !r) return r;
        word_start = false;
        continue;
      }
      if (c == '\\' && pos_ + 1 < t_.size()) {
        advance();
        advance();
        word_start = false;
        continue;
      }
      word_start = is_blank(c) || c == ';';
      advance();
    }
    return {};
  }

  std::string_view t_;
  std::string_view path_;
  size_t pos_ = 0;
  int line_ = 1;
  bool in_array_ = false;
};

}  // namespace

bool is_shell_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0])) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

Result<std::vector<ShAssign>> parse_shell_assignments(std::string_view text,
                                                      std::string_view path) {
  return Lexer(text, path).run();
}

std::string remove_words(std::string_view text, const ShAssign& a, std::vector<size_t> idx) {
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  std::string out(text);
  // Right to left, so earlier spans stay valid; only the closing offset moves.
  size_t close = a.close;
  for (auto it = idx.rbegin(); it != idx.rend(); ++it) {
    if (*it >= a.words.size()) continue;
    size_t b = a.words[*it].begin, e = a.words[*it].end;
    // Whitespace before the word on the same line goes with it ("a b" -> "a").
    size_t lb = b;
    while (lb > a.open && is_blank(out[lb - 1])) --lb;
    size_t le = e;
    while (le < close && is_blank(out[le])) ++le;
    bool line_start = lb == a.open || out[lb - 1] == '\n';
    bool line_end = le == close || out[le] == '\n';
    size_t from = lb, to = e;
    if (line_start && line_end && lb > a.open && le < close) {
      to = le + 1;  // the word was alone on its line: drop the line with its newline
    } else if (line_start && !line_end) {
      from = b;  // first word on its line: take the blanks after it instead
      to = le;
    }
    out.erase(from, to - from);
    close -= to - from;
  }
  return out;
}

}  // namespace exliar
