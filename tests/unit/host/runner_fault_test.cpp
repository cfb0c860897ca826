// Commands that misbehave (issue 14 item 5): a timeout kills the whole process group, a
// command that closes its stdout/stderr still times out, a background child left holding
// the pipe does not hold exliar, and output is kept only up to a cap.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <thread>

#include "host/runner.h"

namespace exliar {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// True when pid is gone or a zombie (killed, waiting for init to reap it).
bool dead(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  auto p = stat.rfind(')');
  return p != std::string::npos && p + 2 < stat.size() && stat[p + 2] == 'Z';
}

TEST(ProcessRunnerFaults, TimeoutKillsTheWholeProcessGroup) {
  ProcessRunner r;
  RunOptions o;
  o.timeout = 300ms;
  // The script starts a child, reports its pid, and waits: the child must die with it.
  auto res = r.run({"sh", "-c", "sleep 30 & echo $!; wait"}, o);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->timed_out);
  int child = std::stoi(res->out);
  auto until = Clock::now() + 2s;
  while (!dead(child) && Clock::now() < until) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(dead(child)) << "pid " << child << " outlived the timeout";
  if (!dead(child)) ::kill(child, SIGKILL);
}

TEST(ProcessRunnerFaults, ClosingStdoutAndStderrDoesNotEscapeTheTimeout) {
  ProcessRunner r;
  RunOptions o;
  o.timeout = 300ms;
  auto start = Clock::now();
  auto res = r.run({"sh", "-c", "exec >&- 2>&-; sleep 5"}, o);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->timed_out);
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(ProcessRunnerFaults, BackgroundChildHoldingThePipeDoesNotHoldTheCaller) {
  ProcessRunner r;
  RunOptions o;
  o.timeout = 5s;
  auto start = Clock::now();
  auto res = r.run({"sh", "-c", "sleep 8 & echo $!; exit 0"}, o);
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->timed_out);
  EXPECT_EQ(res->exit_code, 0);
  EXPECT_LT(Clock::now() - start, 3s);
  ::kill(std::stoi(res->out), SIGKILL);  // the sleep it left behind
}

TEST(ProcessRunnerFaults, OutputIsCappedAndTheRestCounted) {
  ProcessRunner r;
  RunOptions o;
  o.max_output = 1000;
  auto res = r.run({"sh", "-c", "head -c 20000000 /dev/zero; head -c 5000 /dev/zero >&2"}, o);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->exit_code, 0);
  EXPECT_EQ(res->out.size(), 1000u);
  EXPECT_EQ(res->out_dropped, 20000000u - 1000u);
  EXPECT_EQ(res->err.size(), 1000u);
  EXPECT_EQ(res->err_dropped, 4000u);
}

TEST(ProcessRunnerFaults, LastOutputBeforeExitIsKept) {
  ProcessRunner r;
  for (int i = 0; i < 20; ++i) {
    auto res = r.run({"sh", "-c", "printf 'a%.0s' $(seq 1 3000); echo; echo done >&2"}, {});
    ASSERT_TRUE(res);
    ASSERT_EQ(res->out.size(), 3001u);
    ASSERT_EQ(res->err, "done\n");
  }
}

}  // namespace
}  // namespace exliar
