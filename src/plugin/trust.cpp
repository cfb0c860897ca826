#include <fmt/format.h>
#include <sys/stat.h>

#include "plugin/host.h"

namespace exliar {

namespace {

Status check_one(const Fs& fs, const std::string& p) {
  auto st = fs.stat(p, false);
  if (!st) return tl::unexpected(st.error());
  if (st->uid != 0)
    return fail(fmt::format("refused: owned by uid {}, not root", st->uid), fs.display(p));
  if (st->mode & (S_IWGRP | S_IWOTH))
    return fail(fmt::format("refused: writable by group or others (mode {:04o})", st->mode),
                fs.display(p));
  return {};
}

}  // namespace

Result<std::string> trusted_path(const Fs& fs, std::string_view path) {
  std::string p = path_normalize(path);
  // Follow symlinks one hop at a time, inside the root, checking each link's directory
  // chain as well: a root-owned link into a user-writable directory is still refused.
  for (int hops = 0; hops < 8; ++hops) {
    auto st = fs.stat(p, false);
    if (!st) return tl::unexpected(st.error());
    for (std::string dir(path_dirname(p));; dir = std::string(path_dirname(dir))) {
      if (auto r = check_one(fs, dir); !r) return tl::unexpected(r.error());
      if (dir == "/") break;
    }
    if (st->type != FileStat::Type::symlink) {
      if (auto r = check_one(fs, p); !r) return tl::unexpected(r.error());
      return p;
    }
    auto next = resolve_link(fs, p);
    if (!next) return tl::unexpected(next.error());
    p = *next;
  }
  return fail("refused: too many levels of symbolic links", fs.display(path));
}

}  // namespace exliar
