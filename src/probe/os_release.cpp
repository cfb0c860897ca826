#include "probe/os_release.h"

#include "host/text.h"

namespace exliar {

Result<std::map<std::string, std::string>> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> out;
  int lineno = 0;
  for (std::string_view line : split_lines(text)) {
    ++lineno;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string key(trim(line.substr(0, eq)));
    std::string_view raw = line.substr(eq + 1);
    std::string value;
    char quote = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (quote == '\'') {
        if (c == '\'')
          quote = 0;
        else
          value += c;
      } else if (c == '\\' && i + 1 < raw.size() && quote != '\'') {
        value += raw[++i];
      } else if (quote == '"') {
        if (c == '"')
          quote = 0;
        else
          value += c;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#' && (i == 0 || raw[i - 1] == ' ')) {
        break;  // trailing comment
      } else {
        value += c;
      }
    }
    if (quote) return fail("unterminated quote in value of " + key, "", 0, lineno);
    out[key] = std::string(trim(value));
  }
  return out;
}

}  // namespace exliar
