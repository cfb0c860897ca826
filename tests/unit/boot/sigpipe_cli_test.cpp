// SIGPIPE (issue 14 item 9): `exliar apply … | head -1` must not kill exliar in the middle
// of a transaction; and the commands exliar runs (update-grub, hooks) must get the default
// disposition back, or their own pipelines would see EPIPE where they expect to die quietly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot_test_util.h"
#include "host/runner.h"

namespace exliar::boot {
namespace {

/// Runs exliar with stdout and stderr on a pipe whose reader is already gone, the way a
/// shell starts it: SIGPIPE at its default disposition. Returns the wait status.
int run_with_closed_reader(const std::vector<std::string>& args) {
  int p[2];
  if (::pipe(p) != 0) return -1;
  ::close(p[0]);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    std::vector<char*> argv{const_cast<char*>(EXLIAR_EXE)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(EXLIAR_EXE, argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(Sigpipe, ApplyWhoseReaderIsGoneStillCompletesItsTransaction) {
  test::TempRoot root;
  root.write("/etc/os-release", "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n");
  root.write("/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
  root.write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n");
  int status = run_with_closed_reader({"--root", root.dir(), "boot", "add", "sigpipe=1", "--yes"});
  ASSERT_FALSE(WIFSIGNALED(status)) << "killed by signal " << WTERMSIG(status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(root.read("/etc/default/grub").find("sigpipe=1"), std::string::npos);
  ProcessRunner r;
  auto st = r.run({EXLIAR_EXE, "--root", root.dir(), "status"}, {});
  ASSERT_TRUE(st);
  EXPECT_EQ(st->out.find("interrupted"), std::string::npos) << st->out;
  EXPECT_EQ(st->exit_code, 0) << st->out << st->err;
}

TEST(Sigpipe, CommandsRunWithTheDefaultDisposition) {
  ::signal(SIGPIPE, SIG_IGN);  // as exliar's main does
  ProcessRunner r;
  auto res = r.run({"sh", "-c", "grep '^SigIgn:' /proc/self/status"}, {});
  ::signal(SIGPIPE, SIG_DFL);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->exit_code, 0) << res->err;
  // SigIgn is a hex mask; SIGPIPE (13) is bit 12.
  unsigned long mask = std::stoul(res->out.substr(res->out.find(':') + 1), nullptr, 16);
  EXPECT_EQ(mask & (1ul << (SIGPIPE - 1)), 0u) << res->out;
}

}  // namespace
}  // namespace exliar::boot
