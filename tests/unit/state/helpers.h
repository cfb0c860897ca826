// Test helpers for the transaction engine: temp trees, a byte-for-byte tree snapshot, and
// a FaultyFs that fails (or "crashes") at the Nth mutation.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "host/fs.h"

namespace exliar::test {

/// A fresh directory under TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Every entry under a directory: type, mode, owner, and content or link target.
struct Entry {
  char type = '?';  ///< f, d, l
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string data;
  bool operator==(const Entry&) const = default;
};
using Tree = std::map<std::string, Entry>;

/// Snapshot of dir; relative paths that start with one of `exclude` are left out.
Tree snapshot(const std::string& dir, const std::set<std::string>& exclude = {"var/lib/exliar"});
/// Human-readable differences ("" when equal), for assertion messages.
std::string tree_diff(const Tree& a, const Tree& b);

/// Writes a file on the host (creating parents), for building fixtures.
void put(const std::string& root, const std::string& rel, const std::string& content,
         mode_t mode = 0644);
std::string get(const std::string& root, const std::string& rel);
/// cp -a src dst (dst must not exist).
void copy_tree(const std::string& src, const std::string& dst);

/// Runs `child` in a forked process (which may "crash" with _exit) and waits for it; a
/// test asserts on the tree the child left.
void in_child(const std::function<void()>& child);

/// Wraps an Fs. Mutations are counted from 0; `fail_at` makes that one fail with
/// `fail_errno` (every later one too when `persistent`); `crash_at` calls `crash()` just
/// before that mutation. Reads of paths in `unreadable` fail with EACCES; mutations of
/// paths in `readonly` fail with EROFS. `live` makes root() report "/".
class FaultyFs final : public Fs {
 public:
  explicit FaultyFs(Fs& inner) : inner_(inner) {}
  int fail_at = -1;
  int fail_errno = EIO;
  bool persistent = false;
  int crash_at = -1;
  std::function<void()> crash;
  std::set<std::string> unreadable;
  std::set<std::string> readonly;
  int readonly_errno = EROFS;
  bool live = false;
  int mutations = 0;

  const std::string& root() const override { return live ? slash_ : inner_.root(); }
  Result<std::string> read_file(std::string_view p) const override;
  Result<std::string> read_link(std::string_view p) const override { return inner_.read_link(p); }
  Result<std::vector<std::string>> list_dir(std::string_view p) const override {
    return inner_.list_dir(p);
  }
  Result<FileStat> stat(std::string_view p, bool follow = true) const override {
    return inner_.stat(p, follow);
  }
  Status write_atomic_via(std::string_view p, std::string_view c, mode_t m,
                          std::string_view t) override;
  Status write_in_place(std::string_view p, std::string_view c) override;
  Status remove(std::string_view p) override;
  Status make_dir(std::string_view p, mode_t m) override;
  Status chown(std::string_view p, uid_t u, gid_t g) override;
  Status chmod(std::string_view p, mode_t m) override;
  Status symlink(std::string_view t, std::string_view p) override;
  Status hard_link(std::string_view p, std::string_view n) override;
  Status rename(std::string_view f, std::string_view t) override;
  Result<FileLock> lock_exclusive(std::string_view p) override { return inner_.lock_exclusive(p); }

 private:
  Status gate(std::string_view p);
  Fs& inner_;
  std::string slash_ = "/";
};

}  // namespace exliar::test
