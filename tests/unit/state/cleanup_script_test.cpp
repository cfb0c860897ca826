// The cleanup script restores the same tree as `rollback`, run by dash and busybox sh.
#include "state/cleanup_script.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "state/journal.h"
#include "state/transaction.h"
#include "unit/state/fixture.h"

namespace exliar::test {
namespace {

bool have(const std::string& tool) { return ::access(tool.c_str(), X_OK) == 0; }

int run_sh(const std::string& shell_cmd) {
  int rc = std::system(shell_cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(CleanupScript, PrintfFormatIsExactForEveryByte) {
  if (!have("/usr/bin/dash")) GTEST_SKIP() << "dash not installed";
  TempDir t;
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  all = "-leading dash % %s \\ ' \" $HOME `x`\n" + all;
  put(t.path(), "s.sh", "printf '" + printf_format(all) + "' > \"$1\"\n");
  for (const char* sh : {"/usr/bin/dash", "/usr/bin/busybox sh"}) {
    if (std::string(sh).find("busybox") != std::string::npos && !have("/usr/bin/busybox")) continue;
    ASSERT_EQ(run_sh(std::string(sh) + " " + t.path() + "/s.sh " + t.path() + "/out"), 0) << sh;
    EXPECT_EQ(get(t.path(), "out"), all) << sh;
  }
}

void check_shell(const std::string& shell) {
  // Rollback through exliar on one copy...
  Rig rig;
  auto plan = realistic_plan();
  auto applied = apply_plan(*rig.ctx, plan);
  ASSERT_TRUE(applied);
  // a second transaction on top, so the script must undo both, newest first
  Plan p2;
  p2.intent.command = "boot add";
  p2.steps.push_back(
      edit_step({"/etc/default/grub", kGrubAfter, std::string(kGrubAfter) + "# 2\n", 0644},
                "second", "boot/grub"));
  ASSERT_TRUE(apply_plan(*rig.ctx, p2));
  auto script = make_cleanup_script(*rig.fs);
  ASSERT_TRUE(script) << script.error().describe();
  EXPECT_EQ(script->find("/etc/default/grub\n"), std::string::npos);

  std::string copy = rig.tmp.path() + "/copy";
  copy_tree(rig.root, copy);
  put(rig.tmp.path(), "cleanup.sh", *script, 0755);

  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  auto by_rollback = rig.now();
  EXPECT_EQ(tree_diff(rig.original, by_rollback), "");

  // ...and through the script on the other.
  int rc = run_sh(shell + " " + rig.tmp.path() + "/cleanup.sh " + copy + " 2>" + rig.tmp.path() +
                  "/err");
  EXPECT_EQ(rc, 0) << get(rig.tmp.path(), "err");
  EXPECT_EQ(tree_diff(by_rollback, snapshot(copy)), "");
  EXPECT_NE(get(rig.tmp.path(), "err").find("run inside chroot"), std::string::npos)
      << "regeneration is printed, not run, for another root";

  // exliar sees both transactions as rolled back afterwards.
  auto fs = RealFs::open(copy);
  auto ids = list_transactions(*fs);
  ASSERT_TRUE(ids);
  for (const auto& id : *ids) {
    auto tx = load_transaction(*fs, id);
    ASSERT_TRUE(tx) << tx.error().describe();
    EXPECT_EQ(tx->state, TxState::rolled_back) << id;
  }
  // Running it again changes nothing and still succeeds.
  auto again = make_cleanup_script(*fs);
  ASSERT_TRUE(again);
  EXPECT_NE(again->find("nothing to undo"), std::string::npos);
}

TEST(CleanupScript, DashRestoresTheSameTreeAsRollback) {
  if (!have("/usr/bin/dash")) GTEST_SKIP() << "dash not installed";
  check_shell("/usr/bin/dash");
}

TEST(CleanupScript, BusyboxShRestoresTheSameTreeAsRollback) {
  if (!have("/usr/bin/busybox")) GTEST_SKIP() << "busybox not installed";
  check_shell("/usr/bin/busybox sh");
}

TEST(CleanupScript, UndoesAnInterruptedTransaction) {
  if (!have("/usr/bin/dash")) GTEST_SKIP() << "dash not installed";
  Rig rig;
  rig.fs->fail_at = 14;
  rig.fs->persistent = true;
  ASSERT_FALSE(apply_plan(*rig.ctx, realistic_plan()));
  rig.fs->fail_at = -1;
  auto script = make_cleanup_script(*rig.fs);
  ASSERT_TRUE(script) << script.error().describe();
  put(rig.tmp.path(), "cleanup.sh", *script, 0755);
  EXPECT_EQ(run_sh("/usr/bin/dash " + rig.tmp.path() + "/cleanup.sh " + rig.root + " 2>/dev/null"),
            0);
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

// A damaged backup is never written back; the script restores everything else, names the
// file and exits 1 without marking the transaction rolled back (item 4).
TEST(CleanupScript, CorruptedBackupIsNamedAndTheRestRestored) {
  if (!have("/usr/bin/dash")) GTEST_SKIP() << "dash not installed";
  Rig rig;
  auto a = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(a);
  put(rig.root, "var/lib/exliar/transactions/" + a->id + "/backup-0", "tampered\n", 0600);
  auto s = make_cleanup_script(*rig.fs);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->find("tampered"), std::string::npos);
  put(rig.tmp.path(), "cleanup.sh", *s, 0755);
  std::string err = rig.tmp.path() + "/err";
  EXPECT_NE(run_sh("/usr/bin/dash " + rig.tmp.path() + "/cleanup.sh " + rig.root + " 2>" + err), 0);
  EXPECT_NE(get(rig.tmp.path(), "err").find("cannot restore /etc/default/grub"), std::string::npos)
      << get(rig.tmp.path(), "err");
  std::string diff = tree_diff(rig.original, rig.now());
  EXPECT_NE(diff.find("etc/default/grub"), std::string::npos) << diff;
  EXPECT_EQ(std::count(diff.begin(), diff.end(), '\n'), 1) << "only that file differs:\n" << diff;
  EXPECT_EQ(load_transaction(*rig.fs, a->id)->state, TxState::committed);
}

}  // namespace
}  // namespace exliar::test
