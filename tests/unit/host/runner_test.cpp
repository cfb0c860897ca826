#include "host/runner.h"

#include <gtest/gtest.h>

namespace exliar {
namespace {

TEST(ProcessRunner, CapturesOutputAndExitCode) {
  ProcessRunner r;
  auto res = r.run({"sh", "-c", "echo out; echo err >&2; exit 3"}, {});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->exit_code, 3);
  EXPECT_EQ(res->out, "out\n");
  EXPECT_EQ(res->err, "err\n");
}

TEST(ProcessRunner, FeedsStdinAndNeverUsesAShell) {
  ProcessRunner r;
  RunOptions o;
  o.input = "hello; rm -rf /\n";
  auto res = r.run({"cat"}, o);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->out, o.input);
  // Metacharacters in argv are passed through literally.
  auto echo = r.run({"echo", "$HOME;", "`id`"}, {});
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->out, "$HOME; `id`\n");
}

TEST(ProcessRunner, TimeoutKills) {
  ProcessRunner r;
  RunOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto res = r.run({"sleep", "10"}, o);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->timed_out);
  EXPECT_EQ(res->exit_code, 128 + 9);
}

TEST(ProcessRunner, MissingProgramIsAnError) {
  ProcessRunner r;
  auto res = r.run({"/nonexistent/program"}, {});
  EXPECT_FALSE(res);
}

TEST(RecordingRunner, RecordsAndInjectsFailures) {
  RecordingRunner r;
  r.fail_from = 1;
  EXPECT_TRUE(r.run({"update-grub"}, {}));
  EXPECT_FALSE(r.run({"mkinitcpio", "-P"}, {}));
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1].argv[0], "mkinitcpio");
}

TEST(ShellQuote, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(shell_quote({"grub-mkconfig", "-o", "/boot/grub/grub.cfg"}),
            "grub-mkconfig -o /boot/grub/grub.cfg");
  EXPECT_EQ(shell_quote({"echo", "a b", "it's"}), "echo 'a b' 'it'\\''s'");
}

}  // namespace
}  // namespace exliar
