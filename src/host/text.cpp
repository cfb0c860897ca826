#include "host/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace exliar {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string_view::npos) {
      out.push_back(s.substr(i));
      break;
    }
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  for (;;) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) {
      out.push_back(s.substr(i));
      return out;
    }
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<std::uint32_t> parse_hex(std::string_view s) {
  s = trim(s);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<long> parse_long(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string hex4(std::uint32_t v) { return fmt::format("{:04x}", v & 0xffff); }
std::string hex2(std::uint32_t v) { return fmt::format("{:02x}", v & 0xff); }
std::string hex6(std::uint32_t v) { return fmt::format("{:06x}", v & 0xffffff); }

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

bool is_pci_id(std::string_view id) {
  auto parts = split(id, ':');
  if (parts.size() != 2) return false;
  for (auto p : parts)
    if (p.size() != 4 || !parse_hex(p)) return false;
  return true;
}

bool looks_binary(std::string_view s) {
  for (unsigned char c : s)
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\t' && c != '\r' && c != '\f' && c != '\v'))
      return true;
  return false;
}

bool ends_in_continuation(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t n = 0;
  while (n < text.size() && text[text.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

std::string append_own_line(std::string_view text, std::string_view line) {
  std::string out(text);
  if (!out.empty() && out.back() != '\n') out += '\n';
  if (ends_in_continuation(text)) out += '\n';
  out += line;
  out += '\n';
  return out;
}

Result<void> check_line_ends(std::string_view text) {
  size_t cr = text.find('\r');
  if (cr == std::string_view::npos) return {};
  int line = 1 + static_cast<int>(std::count(text.begin(),
                                             text.begin() + static_cast<std::ptrdiff_t>(cr), '\n'));
  return fail(
      "CR line end (DOS/Windows format); the shell and the boot loader would read the CR as "
      "part of the value, and lines exliar adds would mix line ends. Convert the file with "
      "dos2unix first",
      "", 0, line);
}

}  // namespace exliar
