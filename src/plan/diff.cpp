#include "plan/diff.h"

#include <algorithm>
#include <vector>

namespace exliar {

namespace {

struct Line {
  std::string_view text;  ///< without '\n'
  bool newline = true;    ///< false for a last line without terminator
  bool operator==(const Line& o) const { return text == o.text && newline == o.newline; }
};

std::vector<Line> lines_of(std::string_view s) {
  std::vector<Line> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string_view::npos) {
      out.push_back({s.substr(i), false});
      break;
    }
    out.push_back({s.substr(i, j - i), true});
    i = j + 1;
  }
  return out;
}

enum class Op { keep, del, add };
struct Edit {
  Op op;
  size_t a;  ///< index in before (keep/del)
  size_t b;  ///< index in after (keep/add)
};

// LCS over the middle part after trimming the common prefix and suffix. Configuration
// files are small; past a size bound the middle is shown as a whole replacement.
std::vector<Edit> edit_script(const std::vector<Line>& a, const std::vector<Line>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<Edit> out;
  for (size_t k = 0; k < pre; ++k) out.push_back({Op::keep, k, k});
  if (n * m <= 4'000'000) {
    std::vector<std::vector<unsigned>> L(n + 1, std::vector<unsigned>(m + 1, 0));
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        L[i][j] =
            a[pre + i] == b[pre + j] ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        out.push_back({Op::keep, pre + i++, pre + j++});
      } else if (j < m && (i == n || L[i][j + 1] > L[i + 1][j])) {
        out.push_back({Op::add, 0, pre + j++});
      } else {
        out.push_back({Op::del, pre + i++, 0});
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) out.push_back({Op::del, pre + i, 0});
    for (size_t j = 0; j < m; ++j) out.push_back({Op::add, 0, pre + j});
  }
  for (size_t k = 0; k < suf; ++k)
    out.push_back({Op::keep, a.size() - suf + k, b.size() - suf + k});
  return out;
}

std::string range(size_t start, size_t count) {
  // diff -u: a zero-length range names the line before it.
  size_t first = count == 0 ? start : start + 1;
  return count == 1 ? std::to_string(first) : std::to_string(first) + "," + std::to_string(count);
}

const char* kRed = "\033[31m";
const char* kGreen = "\033[32m";
const char* kCyan = "\033[36m";
const char* kBold = "\033[1m";
const char* kReset = "\033[0m";

}  // namespace

std::string unified_diff(std::string_view path, const std::optional<std::string>& before,
                         const std::optional<std::string>& after, const DiffOptions& opts) {
  if (before == after) return {};
  auto a = lines_of(before ? std::string_view(*before) : std::string_view());
  auto b = lines_of(after ? std::string_view(*after) : std::string_view());
  auto script = edit_script(a, b);

  auto paint = [&](const char* c, const std::string& s) {
    return opts.color ? std::string(c) + s + kReset : s;
  };
  std::string p(path);
  if (!p.empty() && p.front() == '/') p.erase(0, 1);
  std::string out;
  out += paint(kBold, "--- " + (before ? "a/" + p : std::string("/dev/null"))) + "\n";
  out += paint(kBold, "+++ " + (after ? "b/" + p : std::string("/dev/null"))) + "\n";

  size_t ctx = static_cast<size_t>(std::max(0, opts.context));
  size_t k = 0;
  while (k < script.size()) {
    while (k < script.size() && script[k].op == Op::keep) ++k;
    if (k == script.size()) break;
    // A hunk: from ctx lines before this change to ctx lines after the last change that is
    // within 2*ctx lines of the previous one.
    size_t start = k >= ctx ? k - ctx : 0;
    size_t end = k;
    size_t gap = 0;
    for (size_t x = k; x < script.size(); ++x) {
      if (script[x].op != Op::keep) {
        end = x + 1;
        gap = 0;
      } else if (++gap > 2 * ctx) {
        break;
      }
    }
    size_t stop = std::min(script.size(), end + ctx);
    size_t a0 = 0, b0 = 0, ac = 0, bc = 0;
    // Starting line numbers: count what precedes `start` in each file.
    for (size_t x = 0; x < start; ++x) {
      if (script[x].op != Op::add) ++a0;
      if (script[x].op != Op::del) ++b0;
    }
    for (size_t x = start; x < stop; ++x) {
      if (script[x].op != Op::add) ++ac;
      if (script[x].op != Op::del) ++bc;
    }
    out += paint(kCyan, "@@ -" + range(a0, ac) + " +" + range(b0, bc) + " @@") + "\n";
    for (size_t x = start; x < stop; ++x) {
      const Edit& e = script[x];
      const Line& l = e.op == Op::add ? b[e.b] : a[e.a];
      std::string text = (e.op == Op::keep  ? " "
                          : e.op == Op::del ? "-"
                                            : "+") +
                         std::string(l.text);
      out += e.op == Op::keep ? text : paint(e.op == Op::del ? kRed : kGreen, text);
      out += "\n";
      if (!l.newline) out += "\\ No newline at end of file\n";
    }
    k = stop;
  }
  return out;
}

}  // namespace exliar
