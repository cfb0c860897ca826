#include "boot/cmdline.h"

#include <fmt/format.h>

#include "host/text.h"

namespace exliar::boot {

namespace {

// The kernel's isspace() separates parameters (lib/cmdline.c next_arg).
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Bytes a bare shell word can carry without a backslash.
bool bare_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("._,:=/+@%-").find(c) != std::string_view::npos;
}

tl::unexpected<Error> scan_error(std::string msg, size_t pos) {
  return fail(fmt::format("{} (column {})", msg, pos + 1));
}

void fill_key(Token& t) {
  size_t eq = t.text.find('=');
  if (eq == std::string::npos) {
    t.key = normalize_key(t.text);
    t.value.reset();
    t.value_quoted = false;
  } else {
    t.key = normalize_key(std::string_view(t.text).substr(0, eq));
    t.value = t.text.substr(eq + 1);
    t.value_quoted = t.value->find('"') != std::string::npos;
  }
}

/// Splits raw text into tokens, undoing the quoting layer q. `inq` tracks the kernel's
/// double quotes, which a shell-double string spells \".
Result<std::vector<Token>> scan(std::string_view s, Quoting q) {
  std::vector<Token> out;
  size_t i = 0, n = s.size();
  for (;;) {
    while (i < n && is_space(s[i])) ++i;
    if (i >= n) break;
    Token t;
    t.begin = i;
    bool inq = false;
    size_t quote_at = i;
    while (i < n) {
      char c = s[i];
      if (!inq && is_space(c)) break;
      if (c == '\0') return scan_error("NUL byte in the command line", i);
      if (q == Quoting::shell_double && c == '\\') {
        if (i + 1 >= n) return scan_error("backslash at the end of a quoted value", i);
        char d = s[i + 1];
        if (d == '"') {
          if (!inq) quote_at = i;
          inq = !inq;
          t.text += d;
        } else if (d == '\\' || d == '$' || d == '`') {
          t.text += d;
        } else if (d != '\n') {
          t.text += c;
          t.text += d;
        }
        i += 2;
        continue;
      }
      if (q == Quoting::shell_bare && c == '\\') {
        if (i + 1 >= n) return scan_error("backslash at the end of an unquoted value", i);
        char d = s[i + 1];
        if (d == '"') {
          if (!inq) quote_at = i;
          inq = !inq;
        }
        if (d != '\n') t.text += d;
        i += 2;
        continue;
      }
      if (q == Quoting::shell_double && (c == '"'))
        return scan_error("unescaped double quote inside a double-quoted value", i);
      if (q == Quoting::shell_single && c == '\'')
        return scan_error("single quote inside a single-quoted value", i);
      if (q == Quoting::shell_bare && !bare_safe(c) && c != '$' && c != '{' && c != '}')
        return scan_error(fmt::format("shell metacharacter '{}' in an unquoted value", c), i);
      if (c == '"' && (q == Quoting::kernel || q == Quoting::shell_single)) {
        if (!inq) quote_at = i;
        inq = !inq;
      }
      t.text += c;
      ++i;
    }
    if (inq) return scan_error("unbalanced double quote", quote_at);
    t.end = i;
    fill_key(t);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::string normalize_key(std::string_view key) {
  std::string k(key);
  for (char& c : k)
    if (c == '-') c = '_';
  return k;
}

std::string normalize_token(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) return normalize_key(text);
  return normalize_key(text.substr(0, eq)) + std::string(text.substr(eq));
}

Status check_param(std::string_view param) {
  if (param.empty()) return fail("an empty kernel parameter");
  // The kernel splits "key=value" at the first '=': "=x" or "=" names no parameter.
  if (param.front() == '=')
    return fail(fmt::format("'{}' is not a kernel parameter: it has no name before '='", param));
  auto toks = scan(param, Quoting::kernel);
  if (!toks)
    return fail(fmt::format("'{}' is not a kernel parameter: {}", param, toks.error().message));
  if (toks->size() != 1 || (*toks)[0].begin != 0 || (*toks)[0].end != param.size())
    return fail(fmt::format("'{}' is not one kernel parameter (whitespace outside quotes)", param));
  return {};
}

Result<Cmdline> Cmdline::parse(std::string_view raw, Quoting q) {
  Cmdline c{std::string(raw), q};
  if (auto st = c.reparse(); !st) return tl::unexpected(st.error());
  return c;
}

Status Cmdline::reparse() {
  auto toks = scan(raw_, quoting_);
  if (!toks) return tl::unexpected(toks.error());
  tokens_ = std::move(*toks);
  return {};
}

std::vector<std::string> Cmdline::words() const {
  std::vector<std::string> w;
  for (const auto& t : tokens_) w.push_back(t.text);
  return w;
}

bool Cmdline::contains(std::string_view param) const {
  std::string want = normalize_token(param);
  for (const auto& t : tokens_)
    if (normalize_token(t.text) == want) return true;
  return false;
}

int Cmdline::last_with_key(std::string_view key) const {
  std::string k = normalize_key(key);
  for (int i = static_cast<int>(tokens_.size()) - 1; i >= 0; --i)
    if (tokens_[i].key == k) return i;
  return -1;
}

Result<std::string> Cmdline::encode(std::string_view text) const {
  std::string out;
  switch (quoting_) {
    case Quoting::kernel:
      return std::string(text);
    case Quoting::shell_single:
      if (text.find('\'') != std::string_view::npos)
        return fail(
            fmt::format("'{}' contains a single quote and the value is single-quoted", text));
      return std::string(text);
    case Quoting::shell_double:
      for (char c : text) {
        if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
        out += c;
      }
      return out;
    case Quoting::shell_bare:
      for (char c : text) {
        if (!bare_safe(c)) out += '\\';
        out += c;
      }
      return out;
  }
  return out;
}

void Cmdline::erase_token(size_t i) {
  size_t b, e;
  if (i > 0) {
    b = tokens_[i - 1].end;
    e = tokens_[i].end;
  } else if (tokens_.size() > 1) {
    b = tokens_[0].begin;
    e = tokens_[1].begin;
  } else {
    b = tokens_[0].begin;
    e = tokens_[0].end;
  }
  raw_.erase(b, e - b);
  (void)reparse();  // removing whole tokens and whitespace keeps quotes balanced
}

Result<bool> Cmdline::add(std::string_view param) {
  if (auto st = check_param(param); !st) return tl::unexpected(st.error());
  if (contains(param)) return false;
  auto enc = encode(param);
  if (!enc) return tl::unexpected(enc.error());
  if (tokens_.empty())
    raw_ += *enc;
  else
    raw_.insert(tokens_.back().end, " " + *enc);
  if (auto st = reparse(); !st) return tl::unexpected(st.error());
  return true;
}

bool Cmdline::remove(std::string_view param) {
  std::string want = normalize_token(param);
  bool changed = false;
  for (size_t i = tokens_.size(); i-- > 0;)
    if (normalize_token(tokens_[i].text) == want) {
      erase_token(i);
      changed = true;
    }
  return changed;
}

bool Cmdline::remove_key(std::string_view key) {
  std::string k = normalize_key(key);
  bool changed = false;
  for (size_t i = tokens_.size(); i-- > 0;)
    if (tokens_[i].key == k) {
      erase_token(i);
      changed = true;
    }
  return changed;
}

Result<bool> Cmdline::set(std::string_view key, std::string_view value) {
  std::string param = fmt::format("{}={}", key, value);
  if (auto st = check_param(param); !st) return tl::unexpected(st.error());
  int i = last_with_key(key);
  if (i < 0) return add(param);
  const Token& t = tokens_[i];
  if (t.value && *t.value == value) return false;
  std::string as_written = t.text.substr(0, t.text.find('='));
  auto enc = encode(as_written + "=" + std::string(value));
  if (!enc) return tl::unexpected(enc.error());
  raw_.replace(t.begin, t.end - t.begin, *enc);
  if (auto st = reparse(); !st) return tl::unexpected(st.error());
  return true;
}

Result<bool> Cmdline::merge(std::string_view key, std::string_view items) {
  int i = last_with_key(key);
  if (i < 0) return add(fmt::format("{}={}", key, items));
  const Token& t = tokens_[i];
  if (t.value_quoted)
    return fail(fmt::format("cannot merge into the quoted value of '{}'", t.text));
  std::vector<std::string_view> have =
      t.value ? split(*t.value, ',') : std::vector<std::string_view>{};
  std::vector<std::string> missing;
  for (auto item : split(items, ',')) {
    if (item.empty()) continue;
    bool found = false;
    for (auto h : have) found = found || h == item;
    for (const auto& m : missing) found = found || m == item;
    if (!found) missing.emplace_back(item);
  }
  if (missing.empty()) return false;
  std::string tail = join(missing, ",");
  if (!t.value)
    tail = "=" + tail;
  else if (!t.value->empty())
    tail = "," + tail;
  if (auto st = check_param(std::string(t.text) + tail); !st) return tl::unexpected(st.error());
  auto enc = encode(tail);
  if (!enc) return tl::unexpected(enc.error());
  raw_.insert(t.end, *enc);
  if (auto st = reparse(); !st) return tl::unexpected(st.error());
  return true;
}

Result<bool> Cmdline::unmerge(std::string_view key, std::string_view items) {
  std::string k = normalize_key(key);
  std::vector<std::string_view> drop;
  for (auto item : split(items, ','))
    if (!item.empty()) drop.push_back(item);
  bool changed = false;
  for (bool again = true; again;) {
    again = false;
    for (size_t i = 0; i < tokens_.size() && !again; ++i) {
      const Token& t = tokens_[i];
      if (t.key != k || !t.value || t.value_quoted) continue;
      // Item boundaries in the raw text: keys and list items carry no escapes, so the
      // commas of the raw value are those of the kernel value.
      size_t eq = raw_.find('=', t.begin);
      std::string_view rv = std::string_view(raw_).substr(eq + 1, t.end - eq - 1);
      auto raw_items = split(rv, ',');
      auto vals = split(*t.value, ',');
      if (raw_items.size() != vals.size()) continue;
      for (size_t j = 0; j < vals.size() && !again; ++j) {
        bool hit = false;
        for (auto d : drop) hit = hit || vals[j] == d;
        if (!hit) continue;
        if (vals.size() == 1) {
          erase_token(i);
        } else {
          size_t start = static_cast<size_t>(raw_items[j].data() - raw_.data());
          if (j > 0)
            raw_.erase(start - 1, raw_items[j].size() + 1);
          else
            raw_.erase(start, raw_items[j].size() + 1);
          if (auto st = reparse(); !st) return tl::unexpected(st.error());
        }
        changed = again = true;
      }
    }
  }
  return changed;
}

std::vector<std::string> kernel_words(std::string_view text) {
  auto c = Cmdline::parse(text, Quoting::kernel);
  if (c) return c->words();
  std::vector<std::string> out;
  for (auto w : split_ws(text)) out.emplace_back(w);
  return out;
}

}  // namespace exliar::boot
