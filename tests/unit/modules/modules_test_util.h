// Helpers for modules tests: temp roots (fresh or copied from a fixture machine), a
// step executor that stands in for the transaction engine (do in order, undo in reverse
// on failure), and an Fs that records sysfs writes and plays the kernel's part on a
// fixture tree of plain files (driver links move on unbind/bind/drivers_probe).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "host/fs.h"
#include "host/text.h"
#include "plan/step.h"

namespace exliar::modules_test {

namespace sfs = std::filesystem;

inline std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string data_dir() { return std::string(EXLIAR_SOURCE_DIR) + "/tests/data/initramfs"; }
inline std::string machine_dir(const std::string& name) {
  return std::string(EXLIAR_BINARY_DIR) + "/machines/" + name;
}

class TempRoot {
 public:
  TempRoot() {
    std::string tmpl = (sfs::temp_directory_path() / "exliar-modules-XXXXXX").string();
    char* d = mkdtemp(tmpl.data());
    if (!d) throw std::runtime_error("mkdtemp failed");
    dir_ = d;
  }
  /// A copy of a built fixture machine (symlinks kept as they are, relative).
  static TempRoot copy_of(const std::string& machine) {
    TempRoot t;
    sfs::copy(machine_dir(machine), t.dir_,
              sfs::copy_options::recursive | sfs::copy_options::copy_symlinks);
    return t;
  }
  TempRoot(TempRoot&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
  TempRoot(const TempRoot&) = delete;
  ~TempRoot() {
    if (dir_.empty()) return;
    std::error_code ec;
    // Restore write permission first so read-only test files can be removed.
    for (auto it = sfs::recursive_directory_iterator(dir_, ec);
         !ec && it != sfs::recursive_directory_iterator(); ++it)
      if (!it->is_symlink())
        sfs::permissions(it->path(), sfs::perms::owner_all, sfs::perm_options::add, ec);
    sfs::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  void write(const std::string& p, const std::string& content) const {
    auto full = sfs::path(dir_ + p);
    sfs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
  }
  void symlink(const std::string& target, const std::string& p) const {
    auto full = sfs::path(dir_ + p);
    sfs::create_directories(full.parent_path());
    sfs::create_symlink(target, full);
  }
  std::string read(const std::string& p) const { return slurp(dir_ + p); }
  bool exists(const std::string& p) const { return sfs::exists(sfs::symlink_status(dir_ + p)); }

 private:
  std::string dir_;
};

/// Every regular file and symlink under dir, with contents (link targets), for
/// byte-for-byte tree comparisons.
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = sfs::recursive_directory_iterator(dir); it != sfs::recursive_directory_iterator();
       ++it) {
    auto rel = it->path().string().substr(dir.size());
    if (it->is_symlink())  // where it points, not how it spells it
      out[rel] =
          "-> " +
          (it->path().parent_path() / sfs::read_symlink(it->path())).lexically_normal().string();
    else if (it->is_regular_file())
      out[rel] = slurp(it->path().string());
  }
  return out;
}

/// The kernel's part for a plain-file sysfs tree, plus a log of every sysfs write and
/// fault injection (the write with index fail_at fails with EIO, nothing changed).
class SimFs final : public Fs {
 public:
  explicit SimFs(RealFs& inner) : in_(inner) {}
  const std::string& root() const override { return in_.root(); }
  Result<std::string> read_file(std::string_view p) const override { return in_.read_file(p); }
  Result<std::string> read_link(std::string_view p) const override { return in_.read_link(p); }
  Result<std::vector<std::string>> list_dir(std::string_view p) const override {
    return in_.list_dir(p);
  }
  Result<FileStat> stat(std::string_view p, bool follow) const override {
    return in_.stat(p, follow);
  }
  Status write_atomic_via(std::string_view p, std::string_view c, mode_t m,
                          std::string_view t) override {
    return in_.write_atomic_via(p, c, m, t);
  }
  Status remove(std::string_view p) override { return in_.remove(p); }
  Status make_dir(std::string_view p, mode_t m) override { return in_.make_dir(p, m); }
  Status chown(std::string_view p, uid_t u, gid_t g) override { return in_.chown(p, u, g); }
  Status chmod(std::string_view p, mode_t m) override { return in_.chmod(p, m); }
  Status symlink(std::string_view t, std::string_view p) override { return in_.symlink(t, p); }
  Result<FileLock> lock_exclusive(std::string_view p) override { return in_.lock_exclusive(p); }

  Status write_in_place(std::string_view p, std::string_view value) override {
    int idx = static_cast<int>(writes.size());
    writes.emplace_back(std::string(p), std::string(value));
    if (idx == fail_at) return fail("injected failure", std::string(p), EIO);
    std::string path(p);
    std::string v(trim(value));
    const std::string drivers = "/sys/bus/pci/drivers/";
    if (path == "/sys/bus/pci/drivers_probe") return probe(v);
    if (path.rfind(drivers, 0) == 0) {
      auto rest = path.substr(drivers.size());
      auto slash = rest.find('/');
      std::string drv = rest.substr(0, slash), op = rest.substr(slash + 1);
      if (op == "unbind") return unbind(drv, v);
      if (op == "bind") return bind(drv, v);
    }
    if (path.size() > 16 && path.substr(path.size() - 16) == "/driver_override")
      return in_.write_in_place(p, v.empty() ? std::string("(null)\n") : v + "\n");
    return in_.write_in_place(p, value);
  }

  std::vector<std::pair<std::string, std::string>> writes;
  int fail_at = -1;
  /// Driver the kernel would pick on a probe without override, per address.
  std::map<std::string, std::string> native;

 private:
  std::string dev_dir(const std::string& a) const {
    auto r = resolve_link(in_, "/sys/bus/pci/devices/" + a);
    return r ? *r : std::string();
  }
  static std::string rel(const std::string& from_dir, const std::string& to) {
    return sfs::path(to).lexically_relative(from_dir).string();
  }
  std::optional<std::string> bound(const std::string& a) const {
    auto l = in_.read_link(dev_dir(a) + "/driver");
    if (!l) return std::nullopt;
    return std::string(path_basename(*l));
  }
  std::string override_of(const std::string& a) const {
    auto t = in_.read_file(dev_dir(a) + "/driver_override");
    std::string v = t ? std::string(trim(*t)) : "";
    return v == "(null)" ? "" : v;
  }
  Status unbind(const std::string& drv, const std::string& a) {
    if (bound(a) != drv) return fail("not bound", a, ENODEV);
    if (auto r = in_.remove(dev_dir(a) + "/driver"); !r) return r;
    return in_.remove("/sys/bus/pci/drivers/" + drv + "/" + a);
  }
  Status bind(const std::string& drv, const std::string& a) {
    if (bound(a)) return fail("already bound", a, EBUSY);
    std::string ov = override_of(a);
    if (!ov.empty() && ov != drv) return fail("driver_override forbids it", a, ENODEV);
    std::string ddir = "/sys/bus/pci/drivers/" + drv;
    if (!in_.is_dir(ddir)) return fail("no such driver", ddir, ENOENT);
    std::string dev = dev_dir(a);
    if (auto r = in_.symlink(rel(dev, ddir), dev + "/driver"); !r) return r;
    return in_.symlink(rel(ddir, dev), ddir + "/" + a);
  }
  Status probe(const std::string& a) {
    if (bound(a)) return {};
    std::string ov = override_of(a);
    std::string drv = !ov.empty() ? ov : (native.count(a) ? native[a] : "");
    if (drv.empty() || !in_.is_dir("/sys/bus/pci/drivers/" + drv)) return {};
    return bind(drv, a);
  }
  RealFs& in_;
};

/// Stands in for run_transaction(): runs steps in order; on the first failure undoes the
/// completed ones in reverse and returns the error. Commands are recorded, not run.
struct MiniTx {
  std::vector<std::vector<std::string>> commands;
  Status run(Fs& fs, const std::vector<Step>& steps) {
    std::vector<const Step*> done;
    for (const auto& s : steps) {
      Status r = apply(fs, s);
      if (!r) {
        for (auto it = done.rbegin(); it != done.rend(); ++it) (void)undo(fs, **it);
        return r;
      }
      done.push_back(&s);
    }
    return {};
  }
  static Status apply(Fs& fs, const Step& s) {
    if (auto* e = std::get_if<EditFile>(&s.action)) {
      if (!e->after) return fs.remove(e->path);
      if (auto d = fs.make_dirs(path_dirname(e->path)); !d) return tl::unexpected(d.error());
      return fs.write_atomic(e->path, *e->after, e->mode);
    }
    if (auto* w = std::get_if<WriteSysfs>(&s.action)) return fs.write_in_place(w->path, w->value);
    return {};
  }
  static Status undo(Fs& fs, const Step& s) {
    if (auto* e = std::get_if<EditFile>(&s.action)) {
      if (!e->before) return fs.remove(e->path);
      return fs.write_atomic(e->path, *e->before, e->mode);
    }
    if (auto* w = std::get_if<WriteSysfs>(&s.action))
      if (w->undo_path && w->undo_value) return fs.write_in_place(*w->undo_path, *w->undo_value);
    return {};
  }
};

inline std::vector<const EditFile*> edits(const std::vector<Step>& steps) {
  std::vector<const EditFile*> out;
  for (const auto& s : steps)
    if (auto* e = std::get_if<EditFile>(&s.action)) out.push_back(e);
  return out;
}
inline const EditFile* edit_of(const std::vector<Step>& steps, const std::string& path) {
  for (auto* e : edits(steps))
    if (e->path == path) return e;
  return nullptr;
}
inline std::vector<std::vector<std::string>> commands(const std::vector<Step>& steps) {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : steps)
    if (auto* c = std::get_if<RunCommand>(&s.action)) out.push_back(c->argv);
  return out;
}

}  // namespace exliar::modules_test
