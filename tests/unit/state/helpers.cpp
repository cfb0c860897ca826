#include "unit/state/helpers.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace exliar::test {

TempDir::TempDir() {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/exliar-state-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

namespace {
void rm_rf(const std::string& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    ::chmod(p.c_str(), 0700);
    if (DIR* d = ::opendir(p.c_str())) {
      std::vector<std::string> names;
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
      for (const auto& n : names) rm_rf(p + "/" + n);
    }
    ::rmdir(p.c_str());
  } else {
    ::unlink(p.c_str());
  }
}

void walk(const std::string& base, const std::string& rel, const std::set<std::string>& exclude,
          Tree& out) {
  std::string full = rel.empty() ? base : base + "/" + rel;
  DIR* d = ::opendir(full.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    bool skip = false;
    for (const auto& x : exclude) skip = skip || r == x || r.rfind(x + "/", 0) == 0;
    if (skip) continue;
    std::string p = base + "/" + r;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    Entry e;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    if (S_ISLNK(st.st_mode)) {
      e.type = 'l';
      e.mode = 0;  // symlink modes are meaningless on Linux
      char buf[4096];
      ssize_t k = ::readlink(p.c_str(), buf, sizeof buf);
      e.data.assign(buf, k > 0 ? static_cast<size_t>(k) : 0);
    } else if (S_ISDIR(st.st_mode)) {
      e.type = 'd';
    } else {
      e.type = 'f';
      e.data = get(base, r);
    }
    out[r] = e;
    if (e.type == 'd') walk(base, r, exclude, out);
  }
}
}  // namespace

TempDir::~TempDir() { rm_rf(path_); }

Tree snapshot(const std::string& dir, const std::set<std::string>& exclude) {
  Tree t;
  walk(dir, "", exclude, t);
  return t;
}

std::string tree_diff(const Tree& a, const Tree& b) {
  std::ostringstream o;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) {
      o << "only in first: " << k << "\n";
    } else if (!(it->second == v)) {
      o << "differs: " << k << " (type " << v.type << "/" << it->second.type << ", mode "
        << std::oct << v.mode << "/" << it->second.mode << std::dec << ", uid " << v.uid << "/"
        << it->second.uid << ", " << v.data.size() << "/" << it->second.data.size() << " bytes"
        << (v.data == it->second.data ? "" : ", content differs") << ")\n";
    }
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) o << "only in second: " << k << "\n";
  return o.str();
}

void put(const std::string& root, const std::string& rel, const std::string& content, mode_t mode) {
  std::string p = root + "/" + rel;
  for (size_t i = root.size() + 1; (i = p.find('/', i)) != std::string::npos; ++i)
    ::mkdir(p.substr(0, i).c_str(), 0755);
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();
  ::chmod(p.c_str(), mode);
}

std::string get(const std::string& root, const std::string& rel) {
  std::ifstream f(root + "/" + rel, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void copy_tree(const std::string& src, const std::string& dst) {
  // Test-only convenience; the engine never runs a shell.
  std::string cmd = "cp -a '" + src + "' '" + dst + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cp -a failed");
}

// Runs `child` in a forked process, which is expected to "crash" with _exit(77).
void in_child(const std::function<void()>& child) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    child();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
}

Result<std::string> FaultyFs::read_file(std::string_view p) const {
  if (unreadable.count(std::string(p))) return fail("cannot open", display(p), EACCES);
  return inner_.read_file(p);
}

Status FaultyFs::gate(std::string_view p) {
  int n = mutations++;
  if (crash_at >= 0 && n == crash_at && crash) crash();
  if (readonly.count(std::string(p))) return fail("cannot write", display(p), readonly_errno);
  if (fail_at >= 0 && (n == fail_at || (persistent && n > fail_at)))
    return fail("injected failure", display(p), fail_errno);
  return {};
}

#define GATE(p) \
  if (auto gate_ = gate(p); !gate_) return gate_

Status FaultyFs::write_atomic_via(std::string_view p, std::string_view c, mode_t m,
                                  std::string_view t) {
  GATE(p);
  return inner_.write_atomic_via(p, c, m, t);
}
Status FaultyFs::hard_link(std::string_view p, std::string_view n) {
  GATE(n);
  return inner_.hard_link(p, n);
}
Status FaultyFs::rename(std::string_view f, std::string_view t) {
  GATE(t);
  return inner_.rename(f, t);
}
Status FaultyFs::write_in_place(std::string_view p, std::string_view c) {
  GATE(p);
  return inner_.write_in_place(p, c);
}
Status FaultyFs::remove(std::string_view p) {
  GATE(p);
  return inner_.remove(p);
}
Status FaultyFs::make_dir(std::string_view p, mode_t m) {
  GATE(p);
  return inner_.make_dir(p, m);
}
Status FaultyFs::chown(std::string_view p, uid_t u, gid_t g) {
  GATE(p);
  return inner_.chown(p, u, g);
}
Status FaultyFs::chmod(std::string_view p, mode_t m) {
  GATE(p);
  return inner_.chmod(p, m);
}
Status FaultyFs::symlink(std::string_view t, std::string_view p) {
  GATE(p);
  return inner_.symlink(t, p);
}

}  // namespace exliar::test
