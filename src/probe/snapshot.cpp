#include "probe/snapshot.h"

#include <cerrno>
#include <set>

namespace exliar {

namespace {

Status refused(std::string_view p) {
  return fail("snapshot reads only; refused to change", std::string(p), EROFS);
}

}  // namespace

Result<std::string> RecordingFs::read_file(std::string_view p) const {
  auto r = inner_.read_file(p);
  if (r) {
    auto& s = seen_[std::string(p)];
    s.read = true;
    s.content = *r;
  } else {
    seen_.try_emplace(std::string(p));  // tested (absent files are not captured below)
  }
  return r;
}

Result<std::string> RecordingFs::read_link(std::string_view p) const {
  auto r = inner_.read_link(p);
  auto& s = seen_[std::string(p)];
  if (r) {
    s.link_read = true;
    s.content = *r;
  }
  return r;
}

Result<std::vector<std::string>> RecordingFs::list_dir(std::string_view p) const {
  auto r = inner_.list_dir(p);
  auto& s = seen_[std::string(p)];
  if (r) {
    s.listed = true;
    for (const auto& n : *r) seen_.try_emplace(path_join(p, n));
  }
  return r;
}

Result<FileStat> RecordingFs::stat(std::string_view p, bool follow) const {
  auto r = inner_.stat(p, follow);
  auto& s = seen_[std::string(p)];
  if (r && follow) s.stat_follow = true;
  return r;
}

Result<std::vector<std::optional<std::string>>> RecordingFs::read_entries(
    std::string_view dir, const std::vector<Entry>& entries) const {
  auto r = inner_.read_entries(dir, entries);
  if (!r) return r;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& s = seen_[path_join(dir, entries[i].name)];
    if (!(*r)[i]) continue;
    (entries[i].link ? s.link_read : s.read) = true;
    s.content = *(*r)[i];
  }
  return r;
}

Status RecordingFs::write_atomic_via(std::string_view p, std::string_view, mode_t,
                                     std::string_view) {
  return refused(p);
}
Status RecordingFs::write_in_place(std::string_view p, std::string_view) { return refused(p); }
Status RecordingFs::remove(std::string_view p) { return refused(p); }
Status RecordingFs::make_dir(std::string_view p, mode_t) { return refused(p); }
Status RecordingFs::chown(std::string_view p, uid_t, gid_t) { return refused(p); }
Status RecordingFs::chmod(std::string_view p, mode_t) { return refused(p); }
Status RecordingFs::symlink(std::string_view, std::string_view p) { return refused(p); }

namespace {

struct Builder {
  const Fs& inner;
  const RecordingFs& rec;
  std::map<std::string, SnapshotEntry> out;

  // Adds every directory above p (p is symlink-free already).
  void parents(const std::string& p) {
    for (std::string d(path_dirname(p)); d != "/" && !d.empty(); d = path_dirname(d)) {
      if (out.count(d)) break;
      out[d] = SnapshotEntry{d, SnapshotEntry::Kind::dir, "", false};
    }
  }

  // The symlink-free path of p, capturing each symlink met on the way; "" when p does not
  // exist (or a link leaves the root). Depth-limited against link loops.
  std::string resolve(const std::string& p, int depth = 0) {
    if (depth > 40) return "";
    std::string cur;
    std::string_view rest(p);
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
      if (rest.empty()) break;
      auto slash = rest.find('/');
      std::string_view name = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      std::string next = path_join(cur.empty() ? "/" : cur, name);
      auto st = inner.stat(next, false);
      if (!st) return "";
      if (st->type == FileStat::Type::symlink) {
        auto target = inner.read_link(next);
        if (!target) return "";
        parents(next);
        out[next] = SnapshotEntry{next, SnapshotEntry::Kind::link, *target, false};
        auto to = resolve_link_target(inner, next, *target);
        if (!to) return "";
        std::string resolved = resolve(*to, depth + 1);
        if (resolved.empty()) return "";
        cur = resolved;
      } else {
        cur = next;
      }
    }
    return cur.empty() ? "/" : cur;
  }

  void add(const std::string& p, const RecordingFs::Seen& s) {
    // A link read is captured by the link itself (its parents resolved); the target only
    // when something looked through it.
    std::string where = p;
    if (s.link_read) {
      std::string dir = resolve(std::string(path_dirname(p)));
      if (dir.empty()) return;
      where = path_join(dir, path_basename(p));
      parents(where);
      out[where] = SnapshotEntry{where, SnapshotEntry::Kind::link, s.content, false};
      if (!s.stat_follow && !s.read && !s.listed) return;
    }
    std::string real = resolve(p);
    if (real.empty() || real == "/") return;
    auto st = inner.stat(real, false);
    if (!st) return;
    parents(real);
    if (out.count(real) && out[real].kind == SnapshotEntry::Kind::link) return;
    if (st->type == FileStat::Type::directory) {
      out.try_emplace(real, SnapshotEntry{real, SnapshotEntry::Kind::dir, "", false});
    } else if (s.read) {
      out[real] = SnapshotEntry{real, SnapshotEntry::Kind::file, s.content, false};
    } else if (!out.count(real)) {
      out[real] = SnapshotEntry{real, SnapshotEntry::Kind::file, "", true};
    }
  }
};

}  // namespace

Result<std::vector<SnapshotEntry>> snapshot_entries(const Fs& inner, const RecordingFs& rec) {
  Builder b{inner, rec, {}};
  for (const auto& [p, s] : rec.seen()) b.add(p, s);
  // A read file recorded under a path through links is stored at its real path; a
  // placeholder for the same real path must not replace it (map order is by path).
  for (const auto& [p, s] : rec.seen())
    if (s.read) {
      std::string real = b.resolve(p);
      if (!real.empty())
        b.out[real] = SnapshotEntry{real, SnapshotEntry::Kind::file, s.content, false};
    }
  std::vector<SnapshotEntry> v;
  v.reserve(b.out.size());
  for (auto& [p, e] : b.out) v.push_back(std::move(e));
  return v;
}

Status write_snapshot(Fs& out, const std::vector<SnapshotEntry>& entries) {
  for (const auto& e : entries) {  // sorted: a directory precedes what is inside it
    Status s;
    switch (e.kind) {
      case SnapshotEntry::Kind::dir:
        s = out.make_dir(e.path, 0755);
        break;
      case SnapshotEntry::Kind::link:
        s = out.symlink(e.content, e.path);
        break;
      case SnapshotEntry::Kind::file:
        s = out.write_atomic(e.path, e.content, 0644);
        break;
    }
    if (!s) return s;
  }
  return {};
}

}  // namespace exliar
