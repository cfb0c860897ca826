// Durability (issue 14 item 10): a new directory is synced into its parent, every fsync
// result is checked, and a failed one fails the write. The test binary interposes fsync
// (RealFs is linked statically into it, so its calls resolve here): each call is recorded
// by the path of its fd, and a chosen one can be made to fail with EIO.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "host/fs.h"

namespace {
std::vector<std::string>* g_synced = nullptr;  ///< paths of the fds fsync was called on
std::string g_fail_dir;                        ///< fsync of this directory fails with EIO

std::string fd_path(int fd) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  return ec ? std::string() : p.string();
}
}  // namespace

extern "C" int fsync(int fd) {
  std::string p = (g_synced || !g_fail_dir.empty()) ? fd_path(fd) : std::string();
  if (g_synced) g_synced->push_back(p);
  if (!g_fail_dir.empty() && p == g_fail_dir) {
    errno = EIO;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace exliar {
namespace {

namespace fsys = std::filesystem;

class Durability : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-dur-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    fsys::create_directories(root_ + "/etc/default");
    g_synced = &synced_;
  }
  void TearDown() override {
    g_synced = nullptr;
    g_fail_dir.clear();
    fsys::remove_all(root_);
  }
  bool synced(const std::string& rel) const {
    for (const auto& p : synced_)
      if (p == root_ + rel) return true;
    return false;
  }
  std::string root_;
  std::vector<std::string> synced_;
};

TEST_F(Durability, ANewDirectoryIsSyncedIntoItsParent) {
  auto fs = RealFs::open(root_);
  ASSERT_TRUE(fs);
  auto made = fs->make_dirs("/var/lib/exliar/transactions/0001");
  ASSERT_TRUE(made) << made.error().describe();
  // Each new level is an entry of the level above: that entry is durable only once the
  // parent is synced.
  for (const char* parent :
       {"", "/var", "/var/lib", "/var/lib/exliar", "/var/lib/exliar/transactions"})
    EXPECT_TRUE(synced(parent)) << "parent " << root_ << parent << " of a new directory not synced";
}

TEST_F(Durability, AFailedFsyncOfTheDirectoryFailsTheWrite) {
  auto fs = RealFs::open(root_);
  ASSERT_TRUE(fs);
  g_fail_dir = root_ + "/etc/default";
  auto w = fs->write_atomic("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\n", 0644);
  ASSERT_FALSE(w) << "the rename was never made durable, yet the write reported success";
  EXPECT_NE(w.error().describe().find("durable"), std::string::npos) << w.error().describe();
  EXPECT_NE(w.error().describe().find(root_ + "/etc/default/grub"), std::string::npos)
      << w.error().describe();
}

TEST_F(Durability, AFailedFsyncOfTheParentFailsMakeDir) {
  auto fs = RealFs::open(root_);
  ASSERT_TRUE(fs);
  g_fail_dir = root_ + "/etc";
  auto m = fs->make_dir("/etc/modprobe.d", 0755);
  ASSERT_FALSE(m) << "a directory whose entry is not durable was reported made";
  EXPECT_NE(m.error().describe().find("durable"), std::string::npos) << m.error().describe();
}

TEST_F(Durability, RemovalIsSyncedInItsDirectory) {
  auto fs = RealFs::open(root_);
  ASSERT_TRUE(fs);
  ASSERT_TRUE(fs->write_atomic("/etc/default/x", "x\n", 0644));
  synced_.clear();
  ASSERT_TRUE(fs->remove("/etc/default/x"));
  EXPECT_TRUE(synced("/etc/default"));
}

}  // namespace
}  // namespace exliar
