#include "host/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace exliar {

namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

/// fsync of a directory given as an O_PATH fd (which fsync refuses): reopens it for
/// reading. False with errno set when either fails.
/// Gives the new file `to` the extended attributes of the file `name` it replaces in dir
/// (SELinux labels, file capabilities, ACLs and user attributes live there), so an edit
/// changes the content only. Best effort: a name the new file cannot take (no permission,
/// unsupported) is skipped, as cp --preserve=xattr does.
void copy_xattrs(int dir, const std::string& name, int to) {
  Fd from(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (from.fd < 0) return;  // a new file: nothing to keep
  ssize_t n = ::flistxattr(from.fd, nullptr, 0);
  if (n <= 0) return;
  std::string names(static_cast<size_t>(n), '\0');
  n = ::flistxattr(from.fd, names.data(), names.size());
  if (n <= 0) return;
  names.resize(static_cast<size_t>(n));
  std::string value(65536, '\0');  // XATTR_SIZE_MAX
  for (size_t pos = 0; pos < names.size();) {
    std::string key = names.c_str() + pos;
    pos += key.size() + 1;
    ssize_t v = ::fgetxattr(from.fd, key.c_str(), value.data(), value.size());
    if (v >= 0) (void)::fsetxattr(to, key.c_str(), value.data(), static_cast<size_t>(v), 0);
  }
}

bool sync_dir(int dir_path_fd) {
  Fd d(::openat(dir_path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return d.fd >= 0 && ::fsync(d.fd) == 0;
}

std::string relative(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return p.empty() ? std::string(".") : std::string(p);
}

tl::unexpected<Error> sys_fail(const Fs& fs, std::string_view what, std::string_view p, int err) {
  std::string msg(what);
  if (err == EXDEV) msg += ": the path leads outside the root directory, refused";
  return fail(std::move(msg), fs.display(p), err == EXDEV ? 0 : err);
}

}  // namespace

std::string Fs::display(std::string_view p) const {
  if (root() == "/") return std::string(p);
  return root() + std::string(p);
}

bool Fs::is_dir(std::string_view p) const {
  auto st = stat(p);
  return st && st->type == FileStat::Type::directory;
}

bool Fs::is_file(std::string_view p) const {
  auto st = stat(p);
  return st && st->type == FileStat::Type::regular;
}

Result<std::vector<std::string>> Fs::make_dirs(std::string_view p, mode_t mode) {
  std::vector<std::string> created;
  std::string norm = path_normalize(p);
  std::string cur;
  size_t pos = 1;
  while (pos <= norm.size()) {
    size_t next = norm.find('/', pos);
    if (next == std::string::npos) next = norm.size();
    cur = norm.substr(0, next);
    pos = next + 1;
    if (cur.empty() || cur == "/") continue;
    auto st = stat(cur);
    if (st) {
      if (st->type != FileStat::Type::directory)
        return fail("exists and is not a directory", display(cur), ENOTDIR);
      continue;
    }
    if (auto r = make_dir(cur, mode); !r) return tl::unexpected(r.error());
    created.push_back(cur);
  }
  return created;
}

Result<std::vector<std::optional<std::string>>> Fs::read_entries(
    std::string_view dir, const std::vector<Entry>& entries) const {
  if (!is_dir(dir)) return fail("not a directory", display(dir), ENOTDIR);
  std::vector<std::optional<std::string>> out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    std::string p = path_join(dir, e.name);
    auto r = e.link ? read_link(p) : read_file(p);
    out.push_back(r ? std::optional<std::string>(std::move(*r)) : std::nullopt);
  }
  return out;
}

Status Fs::read_chunks(std::string_view p,
                       const std::function<void(std::string_view)>& sink) const {
  auto text = read_file(p);
  if (!text) return tl::unexpected(text.error());
  sink(*text);
  return {};
}

std::vector<Result<std::vector<std::optional<std::string>>>> Fs::read_entries_many(
    const std::vector<std::string>& dirs, const std::vector<Entry>& entries) const {
  std::vector<Result<std::vector<std::optional<std::string>>>> out;
  out.reserve(dirs.size());
  for (const auto& d : dirs) out.push_back(read_entries(d, entries));
  return out;
}

Result<RealFs> RealFs::open(std::string root) {
  if (root.empty()) root = "/";
  if (root.front() != '/') {
    char buf[4096];
    if (!::getcwd(buf, sizeof buf))
      return fail("cannot determine the current directory", "", errno);
    root = std::string(buf) + "/" + root;
  }
  root = path_normalize(root);
  if (root.empty()) return fail("invalid root directory", root);
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return fail("root directory does not exist", root, errno);
  if (!S_ISDIR(st.st_mode)) return fail("root is not a directory", root, ENOTDIR);
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open the root directory", root, errno);
  return RealFs(std::move(root), fd);
}

RealFs::RealFs(RealFs&& o) noexcept : root_(std::move(o.root_)), root_fd_(o.root_fd_) {
  o.root_fd_ = -1;
}

RealFs& RealFs::operator=(RealFs&& o) noexcept {
  if (this != &o) {
    if (root_fd_ >= 0) ::close(root_fd_);
    root_ = std::move(o.root_);
    root_fd_ = o.root_fd_;
    o.root_fd_ = -1;
  }
  return *this;
}

RealFs::~RealFs() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

int RealFs::open_beneath(std::string_view p, int flags, mode_t mode) const {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  // On "/" nothing can escape, and absolute symlinks (e.g. /etc/resolv.conf) are normal.
  how.resolve = root_ == "/" ? 0 : (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  std::string rel = relative(p);
  long fd = ::syscall(SYS_openat2, root_fd_, rel.c_str(), &how, sizeof how);
  if (fd < 0) {
    int e = errno;
    if (e == ENOSYS && root_ == "/") {  // kernels before 5.6
      fd = ::openat(root_fd_, rel.c_str(), flags | O_CLOEXEC, mode);
      return fd < 0 ? -errno : static_cast<int>(fd);
    }
    return -e;
  }
  return static_cast<int>(fd);
}

int RealFs::open_parent(std::string_view p, std::string& name) const {
  std::string norm = path_normalize(p);
  if (norm.empty() || norm == "/") return -EINVAL;
  name = std::string(path_basename(norm));
  return open_beneath(path_dirname(norm), O_PATH | O_DIRECTORY);
}

namespace {

// Reads fd to its end in 64 KiB pieces handed to sink; false with errno set on a failure.
bool read_all(int fd, const std::function<void(std::string_view)>& sink) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    sink(std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace

Status RealFs::read_chunks(std::string_view p,
                           const std::function<void(std::string_view)>& sink) const {
  Fd fd(open_beneath(p, O_RDONLY));
  if (fd.fd < 0) return sys_fail(*this, "cannot open", p, -fd.fd);
  if (!read_all(fd.fd, sink)) return sys_fail(*this, "cannot read", p, errno);
  return {};
}

Result<std::string> RealFs::read_file(std::string_view p) const {
  Fd fd(open_beneath(p, O_RDONLY));
  if (fd.fd < 0) return sys_fail(*this, "cannot open", p, -fd.fd);
  std::string out;
  // A regular file's size is known: one allocation of it, instead of doubling through
  // 2x its size (the 1.3 MB pci.ids peaked at 3 MB of heap). sysfs says 4096 for all.
  if (struct stat st{}; ::fstat(fd.fd, &st) == 0 && S_ISREG(st.st_mode))
    out.reserve(static_cast<size_t>(st.st_size));
  if (!read_all(fd.fd, [&](std::string_view piece) { out.append(piece); }))
    return sys_fail(*this, "cannot read", p, errno);
  return out;
}

// Descriptors opened while reading attributes, closed together: the kernel hands out the
// lowest free numbers, so those of consecutive reads are mostly one run, and one
// close_range(2) (Linux 5.9) closes a run of any length. Where it is missing, close(2).
class RealFs::FdBatch {
 public:
  FdBatch() = default;
  FdBatch(const FdBatch&) = delete;
  FdBatch& operator=(const FdBatch&) = delete;
  ~FdBatch() { flush(); }
  void add(int fd) {
    fds_.push_back(fd);
    if (fds_.size() >= kMax) flush();
  }
  void flush() {
    std::sort(fds_.begin(), fds_.end());
    for (size_t i = 0; i < fds_.size();) {
      size_t j = i;
      while (j + 1 < fds_.size() && fds_[j + 1] == fds_[j] + 1) ++j;
      if (j == i || ::syscall(SYS_close_range, fds_[i], fds_[j], 0) != 0)
        for (size_t k = i; k <= j; ++k) ::close(fds_[k]);
      i = j + 1;
    }
    fds_.clear();
  }

 private:
  // Well under the usual soft limit of 1024 open files, which the rest of exliar shares.
  static constexpr size_t kMax = 192;
  std::vector<int> fds_;
};

Result<std::vector<std::optional<std::string>>> RealFs::read_entries(
    std::string_view dir, const std::vector<Entry>& entries) const {
  FdBatch fds;
  return read_entries_into(dir, entries, fds);
}

std::vector<Result<std::vector<std::optional<std::string>>>> RealFs::read_entries_many(
    const std::vector<std::string>& dirs, const std::vector<Entry>& entries) const {
  FdBatch fds;
  std::vector<Result<std::vector<std::optional<std::string>>>> out;
  out.reserve(dirs.size());
  for (const auto& d : dirs) out.push_back(read_entries_into(d, entries, fds));
  return out;
}

Result<std::vector<std::optional<std::string>>> RealFs::read_entries_into(
    std::string_view dir, const std::vector<Entry>& entries, FdBatch& fds) const {
  int dfd = open_beneath(dir, O_PATH | O_DIRECTORY);
  if (dfd < 0) return sys_fail(*this, "cannot open directory", dir, -dfd);
  std::vector<std::optional<std::string>> out;
  out.reserve(entries.size());
  char buf[4096];
  for (const auto& e : entries) {
    std::string name(e.name);
    if (name.find('/') != std::string::npos || name == "..") {
      out.emplace_back();
      continue;
    }
    if (e.link) {
      ssize_t n = ::readlinkat(dfd, name.c_str(), buf, sizeof buf);
      out.push_back(n < 0 ? std::nullopt
                          : std::optional<std::string>(std::string(buf, static_cast<size_t>(n))));
      continue;
    }
    // Relative to the directory and confined beneath it: an attribute that is a symlink
    // cannot lead anywhere else.
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, dfd, name.c_str(), &how, sizeof how);
    if (fd < 0) {
      out.emplace_back();
      continue;
    }
    std::string content;
    for (;;) {
      ssize_t n = ::read(static_cast<int>(fd), buf, sizeof buf);
      if (n <= 0) break;
      content.append(buf, static_cast<size_t>(n));
      // sysfs attributes are produced whole by one show() call of at most a page, so a
      // short read is the end; regular files fall through to the next read.
      if (static_cast<size_t>(n) < sizeof buf) break;
    }
    fds.add(static_cast<int>(fd));  // after the read: add() may close the batch
    out.push_back(std::move(content));
  }
  fds.add(dfd);
  return out;
}

Result<std::string> RealFs::read_link(std::string_view p) const {
  std::string name;
  Fd dir(open_parent(p, name));
  if (dir.fd < 0) return sys_fail(*this, "cannot open the directory of", p, -dir.fd);
  char buf[4096];
  ssize_t n = ::readlinkat(dir.fd, name.c_str(), buf, sizeof buf);
  if (n < 0) return sys_fail(*this, "cannot read link", p, errno);
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::vector<std::string>> RealFs::list_dir(std::string_view p) const {
  int fd = open_beneath(p, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return sys_fail(*this, "cannot list directory", p, -fd);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int e = errno;
    ::close(fd);
    return sys_fail(*this, "cannot list directory", p, e);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<FileStat> RealFs::stat(std::string_view p, bool follow) const {
  Fd fd(open_beneath(p, O_PATH | (follow ? 0 : O_NOFOLLOW)));
  if (fd.fd < 0) return sys_fail(*this, "cannot stat", p, -fd.fd);
  struct stat st {};
  if (::fstatat(fd.fd, "", &st, AT_EMPTY_PATH) != 0)
    return sys_fail(*this, "cannot stat", p, errno);
  FileStat out;
  out.type = S_ISREG(st.st_mode)   ? FileStat::Type::regular
             : S_ISDIR(st.st_mode) ? FileStat::Type::directory
             : S_ISLNK(st.st_mode) ? FileStat::Type::symlink
                                   : FileStat::Type::other;
  out.mode = st.st_mode & 07777;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.size = static_cast<std::uint64_t>(st.st_size);
  return out;
}

Status RealFs::write_atomic_via(std::string_view p, std::string_view content, mode_t mode,
                                std::string_view tmp_name) {
  std::string name;
  Fd dir(open_parent(p, name));
  if (dir.fd < 0) return sys_fail(*this, "cannot open the directory of", p, -dir.fd);
  // O_PATH fds cannot be used for fsync; reopen the directory for reading.
  Fd dirrd(::openat(dir.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirrd.fd < 0) return sys_fail(*this, "cannot open the directory of", p, errno);
  std::string tmp(tmp_name);
  if (tmp.empty()) {
    std::random_device rd;
    tmp = "." + name + ".exliar-tmp-" + std::to_string(rd() % 1000000);
  } else if (tmp.find('/') != std::string::npos || tmp == "." || tmp == "..") {
    return fail("not a file name for a temporary file: " + tmp, display(p), EINVAL);
  } else if (::unlinkat(dirrd.fd, tmp.c_str(), 0) != 0 && errno != ENOENT) {
    // Left by a crash: the caller recorded this name, so it is the caller's own file.
    return sys_fail(*this, "cannot remove the stale temporary file beside", p, errno);
  }
  Fd out(::openat(dirrd.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777));
  if (out.fd < 0) return sys_fail(*this, "cannot create a temporary file beside", p, errno);
  auto cleanup = [&] { ::unlinkat(dirrd.fd, tmp.c_str(), 0); };
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(out.fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      cleanup();
      return sys_fail(*this, "cannot write", p, e);
    }
    off += static_cast<size_t>(n);
  }
  copy_xattrs(dirrd.fd, name, out.fd);
  // umask may have narrowed the mode given to openat.
  if (::fchmod(out.fd, mode & 07777) != 0 || ::fsync(out.fd) != 0) {
    int e = errno;
    cleanup();
    return sys_fail(*this, "cannot write", p, e);
  }
  if (::renameat(dirrd.fd, tmp.c_str(), dirrd.fd, name.c_str()) != 0) {
    int e = errno;
    cleanup();
    return sys_fail(*this, "cannot replace", p, e);
  }
  // The rename is durable only once the directory is: an unchecked failure here would let
  // the journal say "done" for an edit a power loss can still take back.
  if (::fsync(dirrd.fd) != 0)
    return sys_fail(*this, "cannot make durable the directory of", p, errno);
  return {};
}

Status RealFs::write_in_place(std::string_view p, std::string_view content) {
  // O_TRUNC is what `echo v > attr` does; sysfs ignores it, and on a fixture tree (plain
  // files) it makes the file hold exactly the value, as reading the attribute would.
  Fd fd(open_beneath(p, O_WRONLY | O_TRUNC));
  if (fd.fd < 0) return sys_fail(*this, "cannot open for writing", p, -fd.fd);
  ssize_t n = ::write(fd.fd, content.data(), content.size());
  if (n < 0) return sys_fail(*this, "cannot write", p, errno);
  if (static_cast<size_t>(n) != content.size()) return fail("short write", display(p), EIO);
  return {};
}

Status RealFs::remove(std::string_view p) {
  std::string name;
  Fd dir(open_parent(p, name));
  if (dir.fd < 0) return sys_fail(*this, "cannot open the directory of", p, -dir.fd);
  if (::unlinkat(dir.fd, name.c_str(), 0) != 0 &&
      !(errno == EISDIR && ::unlinkat(dir.fd, name.c_str(), AT_REMOVEDIR) == 0))
    return sys_fail(*this, "cannot remove", p, errno);
  // Rollback removes what apply created and then records "rolled back": the removal must
  // not be undone by a power loss after that record.
  if (!sync_dir(dir.fd)) return sys_fail(*this, "cannot make durable the removal of", p, errno);
  return {};
}

Status RealFs::make_dir(std::string_view p, mode_t mode) {
  std::string name;
  Fd dir(open_parent(p, name));
  if (dir.fd < 0) return sys_fail(*this, "cannot open the directory of", p, -dir.fd);
  if (::mkdirat(dir.fd, name.c_str(), mode) != 0) {
    if (errno == EEXIST) return {};
    return sys_fail(*this, "cannot create directory", p, errno);
  }
  // A new directory exists after a power loss only once its parent is synced; without it
  // a transaction directory (and its backups) could vanish while the edits survive.
  if (!sync_dir(dir.fd)) return sys_fail(*this, "cannot make durable the new directory", p, errno);
  return {};
}

Status RealFs::chown(std::string_view p, uid_t uid, gid_t gid) {
  Fd fd(open_beneath(p, O_PATH | O_NOFOLLOW));
  if (fd.fd < 0) return sys_fail(*this, "cannot open", p, -fd.fd);
  if (::fchownat(fd.fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    return sys_fail(*this, "cannot change owner of", p, errno);
  // The owner is part of what rollback restores; a symlink (not openable) has no data.
  Fd rd(open_beneath(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  if (rd.fd >= 0 && ::fsync(rd.fd) != 0)
    return sys_fail(*this, "cannot make durable the owner of", p, errno);
  return {};
}

Status RealFs::chmod(std::string_view p, mode_t mode) {
  Fd fd(open_beneath(p, O_RDONLY | O_NOFOLLOW));
  if (fd.fd < 0) return sys_fail(*this, "cannot open", p, -fd.fd);
  if (::fchmod(fd.fd, mode & 07777) != 0) return sys_fail(*this, "cannot change mode of", p, errno);
  if (::fsync(fd.fd) != 0) return sys_fail(*this, "cannot make durable the mode of", p, errno);
  return {};
}

Status RealFs::symlink(std::string_view target, std::string_view p) {
  std::string name;
  Fd dir(open_parent(p, name));
  if (dir.fd < 0) return sys_fail(*this, "cannot open the directory of", p, -dir.fd);
  std::string t(target);
  if (::symlinkat(t.c_str(), dir.fd, name.c_str()) != 0)
    return sys_fail(*this, "cannot create symlink", p, errno);
  if (!sync_dir(dir.fd)) return sys_fail(*this, "cannot make durable the symlink", p, errno);
  return {};
}

Error in_root(const Fs& fs, Error e) {
  const std::string& r = fs.root();
  bool hosted =
      r == "/" || e.path.empty() || e.path.front() != '/' || e.path == r ||
      (e.path.size() > r.size() && e.path.compare(0, r.size(), r) == 0 && e.path[r.size()] == '/');
  if (!hosted) e.path = fs.display(e.path);
  return e;
}

Status Fs::hard_link(std::string_view p, std::string_view) {
  return fail("this filesystem cannot make hard links", display(p), ENOTSUP);
}

Status Fs::rename(std::string_view from, std::string_view) {
  return fail("this filesystem cannot rename", display(from), ENOTSUP);
}

Status RealFs::hard_link(std::string_view p, std::string_view new_path) {
  std::string from_name, to_name;
  Fd from(open_parent(p, from_name));
  if (from.fd < 0) return sys_fail(*this, "cannot open the directory of", p, -from.fd);
  Fd to(open_parent(new_path, to_name));
  if (to.fd < 0) return sys_fail(*this, "cannot open the directory of", new_path, -to.fd);
  // No AT_SYMLINK_FOLLOW: a symlink is linked as itself, never its target outside the root.
  if (::linkat(from.fd, from_name.c_str(), to.fd, to_name.c_str(), 0) != 0)
    return sys_fail(*this, "cannot link", p, errno);
  if (!sync_dir(to.fd)) return sys_fail(*this, "cannot make durable the link", new_path, errno);
  return {};
}

Status RealFs::rename(std::string_view from, std::string_view to) {
  std::string from_name, to_name;
  Fd fd(open_parent(from, from_name));
  if (fd.fd < 0) return sys_fail(*this, "cannot open the directory of", from, -fd.fd);
  Fd td(open_parent(to, to_name));
  if (td.fd < 0) return sys_fail(*this, "cannot open the directory of", to, -td.fd);
  if (::renameat(fd.fd, from_name.c_str(), td.fd, to_name.c_str()) != 0)
    return sys_fail(*this, "cannot rename", from, errno);
  if (!sync_dir(td.fd) || !sync_dir(fd.fd))
    return sys_fail(*this, "cannot make durable the rename to", to, errno);
  return {};
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last fd releases the flock
}

Result<FileLock> Fs::lock_exclusive(std::string_view p) {
  return fail("this filesystem cannot take locks", display(p), ENOTSUP);
}

bool Fs::lock_held(std::string_view) const { return false; }

bool RealFs::lock_held(std::string_view p) const {
  int fd = open_beneath(p, O_RDONLY | O_NOFOLLOW);
  if (fd < 0) return false;  // no lock file: nobody ever locked
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // closing drops the shared lock taken when it was free
  return held;
}

Result<FileLock> RealFs::lock_exclusive(std::string_view p) {
  int fd = open_beneath(p, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
  if (fd < 0) return sys_fail(*this, "cannot open the lock file", p, -fd);
  FileLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK)
      return fail("another exliar process holds the lock; wait for it to finish", display(p), e);
    return sys_fail(*this, "cannot lock", p, e);
  }
  return lock;
}

}  // namespace exliar
