// The one door to the machine: every read and write of host files goes through an Fs
// rooted at a directory ("/" on a live system, --root DIR for fixtures and chroots).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar {

struct FileStat {
  enum class Type { regular, directory, symlink, other };
  Type type = Type::other;
  mode_t mode = 0;  ///< permission bits only (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  std::uint64_t size = 0;  ///< meaningless for sysfs (always 4096): read to EOF instead
};

/// An exclusive flock(2) held until destruction (see Fs::lock_exclusive).
class FileLock {
 public:
  FileLock() = default;
  explicit FileLock(int fd) : fd_(fd) {}
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// Paths given to Fs are absolute as seen inside the root ("/sys/bus/pci/devices").
/// A path whose resolution leaves the root (".." past it, an absolute symlink when the
/// root is not "/") is refused with EXDEV.
class Fs {
 public:
  virtual ~Fs() = default;

  /// The root directory on the host ("/" or an absolute directory without trailing '/').
  virtual const std::string& root() const = 0;
  bool is_live() const { return root() == "/"; }
  /// The path as the user finds it on the host: root + p.
  std::string display(std::string_view p) const;

  virtual Result<std::string> read_file(std::string_view p) const = 0;
  /// Reads p in pieces handed to sink in order (a large file read without holding it).
  /// The default reads it whole; RealFs reads 64 KiB at a time. A failure after some
  /// pieces were handed over is still a failure: the caller drops what it built.
  virtual Status read_chunks(std::string_view p,
                             const std::function<void(std::string_view)>& sink) const;
  /// The raw target of the symlink p (not resolved).
  virtual Result<std::string> read_link(std::string_view p) const = 0;
  /// Entry names of directory p, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> list_dir(std::string_view p) const = 0;
  virtual Result<FileStat> stat(std::string_view p, bool follow = true) const = 0;

  /// Replace (or create) p with content: temp file in the same directory, fsync,
  /// rename over p, fsync the directory (each fsync checked). Mode applies to the new file.
  Status write_atomic(std::string_view p, std::string_view content, mode_t mode) {
    return write_atomic_via(p, content, mode, {});
  }
  /// The same through a temp file of a name the caller chose (one component, in p's
  /// directory), so that a crash between creating and renaming it leaves a name the caller
  /// recorded and can remove; a stale file of that name is replaced. Empty: a random name.
  virtual Status write_atomic_via(std::string_view p, std::string_view content, mode_t mode,
                                  std::string_view tmp_name) = 0;
  /// Write a value into an existing file in place (sysfs attributes cannot be renamed over).
  virtual Status write_in_place(std::string_view p, std::string_view content) = 0;
  virtual Status remove(std::string_view p) = 0;  ///< file, symlink or empty dir
  /// One level; EEXIST is ok. A new directory is made durable in its parent (fsync).
  virtual Status make_dir(std::string_view p, mode_t mode) = 0;
  virtual Status chown(std::string_view p, uid_t uid, gid_t gid) = 0;
  virtual Status chmod(std::string_view p, mode_t mode) = 0;
  virtual Status symlink(std::string_view target, std::string_view p) = 0;
  /// Makes new_path (which must not exist) another name of the regular file p, both inside
  /// the root and on one filesystem (EXDEV otherwise); the directory of new_path is synced.
  /// Default: unsupported (ENOTSUP), and callers fall back to copying.
  virtual Status hard_link(std::string_view p, std::string_view new_path);
  /// Renames from over to atomically; both directories are synced. Default: ENOTSUP.
  virtual Status rename(std::string_view from, std::string_view to);
  /// Creates p (0600) if missing and takes an exclusive non-blocking flock on it; a lock
  /// held by another process fails with EWOULDBLOCK. Default: unsupported (ENOTSUP).
  virtual Result<FileLock> lock_exclusive(std::string_view p);
  /// True when another open of p holds an exclusive flock right now (a transaction running
  /// in another process). Read-only: needs no write access. A lock this process holds
  /// through lock_exclusive counts too (flock locks belong to the open file description).
  virtual bool lock_held(std::string_view p) const;

  /// One entry of a batched directory read: a regular file's content or a symlink's target.
  struct Entry {
    std::string_view name;  ///< a single path component
    bool link = false;      ///< read the symlink target instead of following it
  };
  /// Reads several entries of one directory in one go (sysfs attributes): missing or
  /// unreadable entries are nullopt. Fails only when dir itself cannot be opened. The
  /// default loops over read_file/read_link; RealFs opens the directory once, which
  /// halves the cost of a PCI scan.
  virtual Result<std::vector<std::optional<std::string>>> read_entries(
      std::string_view dir, const std::vector<Entry>& entries) const;
  /// read_entries of the same entries in each of several directories (one PCI function
  /// each), results in the order of dirs. The default loops over read_entries; RealFs
  /// closes the descriptors of many directories with one close_range(2), so a PCI scan
  /// costs about one system call per attribute read (issue 23: the syscall floor).
  virtual std::vector<Result<std::vector<std::optional<std::string>>>> read_entries_many(
      const std::vector<std::string>& dirs, const std::vector<Entry>& entries) const;

  // Conveniences built on the primitives above.
  bool exists(std::string_view p) const { return stat(p, false).has_value(); }
  bool is_dir(std::string_view p) const;
  bool is_file(std::string_view p) const;
  /// Creates p and missing parents; returns the directories it created, outermost first.
  Result<std::vector<std::string>> make_dirs(std::string_view p, mode_t mode = 0755);
};

/// Fs over the real filesystem, confined to root with openat2(RESOLVE_BENEATH).
class RealFs final : public Fs {
 public:
  /// Fails when root does not exist or is not a directory.
  static Result<RealFs> open(std::string root);
  RealFs(RealFs&&) noexcept;
  RealFs& operator=(RealFs&&) noexcept;
  ~RealFs() override;

  const std::string& root() const override { return root_; }
  Result<std::string> read_file(std::string_view p) const override;
  Status read_chunks(std::string_view p,
                     const std::function<void(std::string_view)>& sink) const override;
  Result<std::string> read_link(std::string_view p) const override;
  Result<std::vector<std::string>> list_dir(std::string_view p) const override;
  Result<FileStat> stat(std::string_view p, bool follow = true) const override;
  Status write_atomic_via(std::string_view p, std::string_view content, mode_t mode,
                          std::string_view tmp_name) override;
  Status write_in_place(std::string_view p, std::string_view content) override;
  Status remove(std::string_view p) override;
  Status make_dir(std::string_view p, mode_t mode) override;
  Status chown(std::string_view p, uid_t uid, gid_t gid) override;
  Status chmod(std::string_view p, mode_t mode) override;
  Status symlink(std::string_view target, std::string_view p) override;
  Status hard_link(std::string_view p, std::string_view new_path) override;
  Status rename(std::string_view from, std::string_view to) override;
  Result<FileLock> lock_exclusive(std::string_view p) override;
  bool lock_held(std::string_view p) const override;
  Result<std::vector<std::optional<std::string>>> read_entries(
      std::string_view dir, const std::vector<Entry>& entries) const override;
  std::vector<Result<std::vector<std::optional<std::string>>>> read_entries_many(
      const std::vector<std::string>& dirs, const std::vector<Entry>& entries) const override;

 private:
  class FdBatch;
  Result<std::vector<std::optional<std::string>>> read_entries_into(
      std::string_view dir, const std::vector<Entry>& entries, FdBatch& fds) const;
  RealFs(std::string root, int fd) : root_(std::move(root)), root_fd_(fd) {}
  /// openat2 under the root; returns an fd or -errno.
  int open_beneath(std::string_view p, int flags, mode_t mode = 0) const;
  /// Opens the parent directory of p; sets name to the last component.
  int open_parent(std::string_view p, std::string& name) const;

  std::string root_;
  int root_fd_ = -1;
};

/// The convention for Error.path is the path as the user finds it on the host (root + p).
/// Pure parsers and editors know only the path inside the root, so the layer that holds
/// the Fs passes their errors through this at its boundary: a path that does not already
/// carry the root prefix gets it (issue 14 item 20: the same file was named with the
/// prefix in some messages and without it in others).
Error in_root(const Fs& fs, Error e);

// Pure path helpers (no I/O).
std::string path_join(std::string_view dir, std::string_view name);
std::string_view path_basename(std::string_view p);
std::string_view path_dirname(std::string_view p);
/// Lexically normalises an absolute path; nullopt-like "" when ".." climbs above "/".
std::string path_normalize(std::string_view p);

/// Resolves the symlink at p one level, lexically, relative to its directory, and checks
/// that the result stays inside the root: "/sys/bus/pci/devices/0000:01:00.0" ->
/// "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0".
Result<std::string> resolve_link(const Fs& fs, std::string_view p);
/// The same for a target already read (e.g. by Fs::read_entries).
Result<std::string> resolve_link_target(const Fs& fs, std::string_view p, std::string_view target);

}  // namespace exliar
