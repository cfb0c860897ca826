// A transaction another exliar is running right now (issue 14 item 11) is not an
// interrupted one: apply must say the lock is held, status must say "in progress", and
// neither may tell the user to roll back what is still being applied.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include "boot_test_util.h"
#include "host/runner.h"

namespace exliar::boot {
namespace {

struct Run {
  int code;
  std::string out;
};

Run exliar(const test::TempRoot& root, std::vector<std::string> args) {
  args.insert(args.begin(), {EXLIAR_EXE, "--root", root.dir()});
  ProcessRunner r;
  auto res = r.run(args, {});
  if (!res) return {-1, res.error().describe()};
  return {res->exit_code, res->out + res->err};
}

/// The state an apply leaves while it runs: its log has a begin and no commit.
std::string running_transaction(test::TempRoot& root) {
  root.write("/etc/os-release", "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n");
  root.write("/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
  root.write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n");
  auto a = exliar(root, {"boot", "add", "first=1", "--yes"});
  EXPECT_EQ(a.code, 0) << a.out;
  std::string dir = "/var/lib/exliar/transactions";
  std::string id;
  for (const auto& e : std::filesystem::directory_iterator(root.dir() + dir))
    id = e.path().filename().string();
  std::string log = root.read(dir + "/" + id + "/log");
  log = log.substr(0, log.rfind("{\"rec\":\"commit\""));
  EXPECT_EQ(log.find("commit"), std::string::npos) << log;
  root.write(dir + "/" + id + "/log", log);
  return id;
}

TEST(Lock, ATransactionRunningElsewhereIsNotCalledInterrupted) {
  test::TempRoot root;
  std::string id = running_transaction(root);
  int fd = ::open((root.dir() + "/var/lib/exliar/lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // the other exliar, mid-apply

  auto grub_before = root.read("/etc/default/grub");
  auto apply = exliar(root, {"boot", "add", "second=1", "--yes"});
  EXPECT_EQ(apply.code, 3) << apply.out;
  EXPECT_NE(apply.out.find("lock held"), std::string::npos) << apply.out;
  EXPECT_EQ(apply.out.find("interrupted"), std::string::npos) << apply.out;
  EXPECT_EQ(root.read("/etc/default/grub"), grub_before);

  auto status = exliar(root, {"status"});
  EXPECT_NE(status.out.find("in progress"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("exliar rollback " + id), std::string::npos) << status.out;

  ::close(fd);  // the other exliar died: now it is interrupted, and both say so
  apply = exliar(root, {"boot", "add", "second=1", "--yes"});
  EXPECT_EQ(apply.code, 3) << apply.out;
  EXPECT_NE(apply.out.find("was interrupted"), std::string::npos) << apply.out;
  status = exliar(root, {"status"});
  EXPECT_NE(status.out.find("exliar rollback " + id), std::string::npos) << status.out;
}

}  // namespace
}  // namespace exliar::boot
