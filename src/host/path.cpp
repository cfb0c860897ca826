// Pure path helpers and lexical symlink resolution inside a root (no I/O but readlink).
#include <vector>

#include "host/fs.h"

namespace exliar {

std::string path_join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

std::string_view path_basename(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view path_dirname(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

std::string path_normalize(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (parts.empty()) return {};
      parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (auto c : parts) {
    out += '/';
    out += c;
  }
  return out.empty() ? std::string("/") : out;
}

Result<std::string> resolve_link(const Fs& fs, std::string_view p) {
  auto target = fs.read_link(p);
  if (!target) return tl::unexpected(target.error());
  return resolve_link_target(fs, p, *target);
}

Result<std::string> resolve_link_target(const Fs& fs, std::string_view p, std::string_view target) {
  if (!target.empty() && target.front() == '/') {
    if (!fs.is_live())
      return fail("symlink has an absolute target (" + std::string(target) +
                      ") that leaves the root, refused",
                  fs.display(p), 0);
    return path_normalize(target);
  }
  std::string norm = path_normalize(path_join(path_dirname(p), target));
  if (norm.empty())
    return fail(
        "symlink target (" + std::string(target) + ") leads outside the root directory, refused",
        fs.display(p), 0);
  return norm;
}

}  // namespace exliar
