// Bad inputs: each gives a clear message, the right exit code, and changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "host/text.h"
#include "state/cleanup_script.h"
#include "state/hash.h"
#include "state/journal.h"
#include "state/transaction.h"
#include "unit/state/fixture.h"

namespace exliar::test {
namespace {

std::string msg(const TxError& e) { return e.error.describe(); }

#define EXPECT_HAS(hay, needle) EXPECT_NE((hay).find(needle), std::string::npos) << (hay)

TEST(BadInput, UnreadableConfigFile) {
  Rig rig;
  rig.fs->unreadable.insert("/etc/default/grub");
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "etc/default/grub");
  EXPECT_HAS(msg(r.error()), "Permission denied");
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
  EXPECT_TRUE(list_transactions(*rig.fs)->empty()) << "no transaction was started";
}

TEST(BadInput, ReadOnlyTarget) {
  Rig rig;
  rig.fs->readonly.insert("/etc/mkinitcpio.conf");
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 4);
  EXPECT_HAS(msg(r.error()), "Read-only file system");
  EXPECT_HAS(msg(r.error()), "step 5 of 8");
  EXPECT_HAS(msg(r.error()), "Every change was undone");
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

TEST(BadInput, DiskFullWhileWritingATarget) {
  Rig rig;
  rig.fs->readonly.insert("/etc/default/grub");
  rig.fs->readonly_errno = ENOSPC;
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 4);
  EXPECT_HAS(msg(r.error()), "No space left on device");
  EXPECT_HAS(msg(r.error()), "step 1 of 8");
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

TEST(BadInput, DiskFullBeforeTheJournalStarts) {
  Rig rig;
  rig.fs->fail_errno = ENOSPC;
  rig.fs->fail_at = 0;
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "nothing was changed");
  EXPECT_HAS(msg(r.error()), "No space left on device");
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

struct Applied {
  Rig rig;
  std::string id;
  Tree after;
  Applied() {
    auto r = apply_plan(*rig.ctx, realistic_plan());
    if (r) id = r->id;
    after = rig.now({});
  }
  std::string tx(const std::string& f) const {
    return "var/lib/exliar/transactions/" + id + "/" + f;
  }
};

TEST(BadInput, JournalLogCorrupted) {
  Applied a;
  std::string log = get(a.rig.root, a.tx("log"));
  size_t nl = log.find('\n') + 1;
  put(a.rig.root, a.tx("log"), log.substr(0, nl) + "{garbage\n" + log.substr(nl), 0600);
  a.after = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, a.id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "journal corrupted");
  EXPECT_HAS(msg(r.error()), "/log:2:");
  EXPECT_EQ(tree_diff(a.after, a.rig.now({})), "");
  // A changing command refuses too rather than guess.
  auto again = apply_plan(*a.rig.ctx, realistic_plan());
  ASSERT_FALSE(again);
  EXPECT_HAS(msg(again.error()), "journal corrupted");
}

// A journal is untrusted input: a backup record naming a file outside its transaction
// directory would have rollback copy that file over the target (item 17).
TEST(BadInput, BackupNameLeavingTheTransactionIsRefused) {
  Applied a;
  const std::string secret = "root:x:0:0::/root:/bin/sh\n";
  put(a.rig.root, "etc/secret", secret, 0600);
  std::string out;
  const std::string log = get(a.rig.root, a.tx("log"));  // split_lines returns views into it
  for (const auto& line : split_lines(log)) {
    auto j = nlohmann::json::parse(std::string(line));
    if (j.value("rec", "") == "backup" && out.find("../") == std::string::npos) {
      j["file"] = "../../../../../etc/secret";
      j["sha256"] = sha256_hex(secret);
    }
    out += j.dump() + "\n";
  }
  put(a.rig.root, a.tx("log"), out, 0600);
  a.after = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, a.id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "journal corrupted");
  EXPECT_HAS(msg(r.error()), "../../../../../etc/secret");
  EXPECT_HAS(msg(r.error()), "/log:");
  EXPECT_EQ(tree_diff(a.after, a.rig.now({})), "") << "nothing was restored from it";
  auto script = make_cleanup_script(*a.rig.fs);
  ASSERT_FALSE(script) << "the cleanup script must not copy it either";
  EXPECT_HAS(script.error().describe(), "../../../../../etc/secret");
}

TEST(BadInput, JournalPlanCorrupted) {
  Applied a;
  put(a.rig.root, a.tx("plan.json"), "{\"schema_version\": 1, \"intent\": {}}", 0600);
  a.after = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "journal corrupted: invalid plan");
  EXPECT_EQ(tree_diff(a.after, a.rig.now({})), "");
}

TEST(BadInput, BackupCorrupted) {
  Applied a;
  put(a.rig.root, a.tx("backup-0"), "GRUB_DEFAULT=evil\n", 0600);
  a.after = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "does not match its recorded sha256");
  EXPECT_EQ(tree_diff(a.after, a.rig.now({})), "");
}

// One lost backup is that file's problem (item 4): refused without --force, nothing
// changed; --force restores every other file, closes the transaction and names the one.
TEST(BadInput, BackupMissing) {
  Applied a;
  ::unlink((a.rig.root + "/" + a.tx("backup-4")).c_str());
  auto before = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "/etc/mkinitcpio.conf: its backup cannot be read");
  EXPECT_HAS(msg(r.error()), "rollback --force");
  EXPECT_EQ(tree_diff(before, a.rig.now({})), "");

  TxOptions force;
  force.force = true;
  auto f = undo_transaction(*a.rig.ctx, "", force);
  ASSERT_TRUE(f) << msg(f.error());
  ASSERT_EQ(f->unrestored.size(), 1u);
  EXPECT_HAS(f->unrestored[0], "/etc/mkinitcpio.conf");
  std::string diff = tree_diff(a.rig.original, a.rig.now());
  EXPECT_HAS(diff, "etc/mkinitcpio.conf");
  EXPECT_EQ(std::count(diff.begin(), diff.end(), '\n'), 1) << "only that file differs:\n" << diff;
  EXPECT_EQ(load_transaction(*a.rig.fs, a.id)->state, TxState::rolled_back);
}

// Item 3: a sysfs write that failed changed nothing, so the automatic rollback must not
// "undo" it; before, the undo failed the same way and the transaction stayed interrupted
// for ever, blocking every later apply.
TEST(BadInput, FailedSysfsWriteIsNotUndoneAndNothingGetsStuck) {
  Rig rig;
  rig.fs->readonly.insert(kOverride);  // the write fails, and so would any undo
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 4) << msg(r.error());
  EXPECT_HAS(msg(r.error()), "Every change was undone");
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
  auto ids = list_transactions(*rig.fs);
  ASSERT_TRUE(ids && ids->size() == 1);
  EXPECT_EQ(load_transaction(*rig.fs, ids->front())->state, TxState::rolled_back);
  rig.fs->readonly.clear();
  auto again = apply_plan(*rig.ctx, realistic_plan());
  EXPECT_TRUE(again) << msg(again.error());
}

// Item 3: an undo that cannot succeed (the sysfs attribute refuses the old value) blocks a
// plain rollback with a way out; --force always closes the transaction and names what it
// could not restore, and apply works again.
TEST(BadInput, ForceClosesATransactionWhoseUndoCannotSucceed) {
  Applied a;
  ASSERT_FALSE(a.id.empty());
  a.rig.fs->readonly.insert(kOverride);
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "rollback --force " + a.id);
  TxOptions force;
  force.force = true;
  auto f = undo_transaction(*a.rig.ctx, "", force);
  ASSERT_TRUE(f) << msg(f.error());
  ASSERT_EQ(f->unrestored.size(), 1u);
  EXPECT_HAS(f->unrestored[0], "driver_override");
  EXPECT_EQ(load_transaction(*a.rig.fs, a.id)->state, TxState::rolled_back);
  std::string diff = tree_diff(a.rig.original, a.rig.now());
  EXPECT_HAS(diff, "driver_override");
  EXPECT_EQ(std::count(diff.begin(), diff.end(), '\n'), 1) << diff;
  a.rig.fs->readonly.clear();
  auto again = apply_plan(*a.rig.ctx, realistic_plan());
  EXPECT_TRUE(again) << msg(again.error());
}

TEST(BadInput, LockHeld) {
  Rig rig;
  auto held = rig.real->lock_exclusive("/var/lib/exliar/lock");
  ASSERT_FALSE(held) << "the state dir does not exist yet";
  ::mkdir((rig.root + "/var/lib/exliar").c_str(), 0755);
  held = rig.real->lock_exclusive("/var/lib/exliar/lock");
  ASSERT_TRUE(held) << held.error().describe();
  auto before = rig.now({});
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "lock held");
  auto rb = undo_transaction(*rig.ctx, "");
  ASSERT_FALSE(rb);
  EXPECT_HAS(msg(rb.error()), "lock held");
  EXPECT_EQ(tree_diff(before, rig.now({})), "");
}

TEST(BadInput, NotRootOnTheLiveSystem) {
  Rig rig;
  rig.go_live();
  TxOptions user;
  user.euid = 1000;
  auto r = apply_plan(*rig.ctx, realistic_plan(), user);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "needs root");
  EXPECT_EQ(rig.fs->mutations, 0);
  auto rb = undo_transaction(*rig.ctx, "", user);
  ASSERT_FALSE(rb);
  EXPECT_HAS(msg(rb.error()), "needs root");
  EXPECT_EQ(tree_diff(rig.original, rig.now({})), "");
}

TEST(BadInput, NotRootIsFineWithRoot) {
  Rig rig;
  TxOptions user;
  user.euid = 1000;
  EXPECT_TRUE(apply_plan(*rig.ctx, realistic_plan(), user));
}

TEST(BadInput, UnknownTransactionId) {
  Applied a;
  auto r = undo_transaction(*a.rig.ctx, "0042-nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 2);
  EXPECT_HAS(msg(r.error()), "unknown transaction id \"0042-nope\"");
  EXPECT_HAS(msg(r.error()), a.id);
  auto dots = undo_transaction(*a.rig.ctx, "../../../etc");
  ASSERT_FALSE(dots);
  EXPECT_EQ(tree_diff(a.after, a.rig.now({})), "");
}

TEST(BadInput, NothingToRollBack) {
  Rig rig;
  auto r = undo_transaction(*rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 2);
  EXPECT_HAS(msg(r.error()), "nothing to roll back");
}

TEST(BadInput, AlreadyRolledBack) {
  Applied a;
  ASSERT_TRUE(undo_transaction(*a.rig.ctx, a.id));
  auto r = undo_transaction(*a.rig.ctx, a.id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 2);
  EXPECT_HAS(msg(r.error()), "already rolled back");
}

TEST(BadInput, FileChangedSinceThePlanWasMade) {
  Rig rig;
  put(rig.root, "etc/default/grub", std::string(kGrubBefore) + "GRUB_TIMEOUT=3\n");
  auto before = rig.now();
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "changed since the plan was made");
  EXPECT_EQ(tree_diff(before, rig.now()), "");
}

TEST(BadInput, FileToCreateAlreadyExists) {
  Rig rig;
  put(rig.root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=1234:5678\n");
  auto before = rig.now();
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_HAS(msg(r.error()), "was created since the plan was made");
  EXPECT_EQ(tree_diff(before, rig.now()), "");
}

TEST(BadInput, TargetIsASymlink) {
  Rig rig;
  ::unlink((rig.root + "/etc/default/grub").c_str());
  put(rig.root, "etc/default/grub.real", kGrubBefore);
  ::symlink("grub.real", (rig.root + "/etc/default/grub").c_str());
  auto before = rig.now();
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_HAS(msg(r.error()), "not a regular file");
  EXPECT_EQ(tree_diff(before, rig.now()), "");
}

TEST(BadInput, ParentOfANewFileIsAFile) {
  Rig rig;
  put(rig.root, "etc/exliar-test", "I am a file\n");
  auto before = rig.now();
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3) << "found by the preflight, before anything changes";
  EXPECT_HAS(msg(r.error()), "etc/exliar-test/hooks/early/vfio.hook");
  EXPECT_HAS(msg(r.error()), "Not a directory");
  EXPECT_EQ(tree_diff(before, rig.now()), "");
}

TEST(BadInput, FileChangedSinceApplyIsRefusedUnlessForced) {
  Applied a;
  put(a.rig.root, "etc/default/grub", "# edited by the user\n");
  auto before = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "etc/default/grub changed since exliar wrote it");
  EXPECT_HAS(msg(r.error()), "--force");
  EXPECT_EQ(tree_diff(before, a.rig.now({})), "") << "nothing was changed";
  TxOptions force;
  force.force = true;
  ASSERT_TRUE(undo_transaction(*a.rig.ctx, "", force));
  EXPECT_EQ(tree_diff(a.rig.original, a.rig.now()), "");
}

TEST(BadInput, FileDeletedSinceApplyIsNamedAsDeleted) {
  Applied a;
  ASSERT_EQ(::unlink((a.rig.root + "/etc/default/grub").c_str()), 0);
  auto before = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "etc/default/grub was deleted since exliar wrote it");
  EXPECT_EQ(msg(r.error()).find("changed since"), std::string::npos) << msg(r.error());
  EXPECT_EQ(tree_diff(before, a.rig.now({})), "") << "nothing was changed";
  TxOptions force;
  force.force = true;
  ASSERT_TRUE(undo_transaction(*a.rig.ctx, "", force));
  EXPECT_EQ(tree_diff(a.rig.original, a.rig.now()), "") << "--force brings the file back";
}

TEST(BadInput, InterruptedTransactionBlocksChangesUntilRecovered) {
  Rig rig;
  rig.fs->fail_at = 8;
  rig.fs->persistent = true;
  ASSERT_FALSE(apply_plan(*rig.ctx, realistic_plan()));
  rig.fs->fail_at = -1;
  auto r = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "was interrupted");
  EXPECT_HAS(msg(r.error()), "exliar rollback 0001-");
  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
  EXPECT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
}

TEST(BadInput, CreatedDirectoryWithForeignFilesIsLeftInPlace) {
  Applied a;
  put(a.rig.root, "etc/exliar-test/hooks/user-file", "mine\n");
  auto r = undo_transaction(*a.rig.ctx, "");
  ASSERT_TRUE(r) << msg(r.error());
  auto now = a.rig.now();
  EXPECT_EQ(now.count("etc/exliar-test/hooks/early"), 0u);
  EXPECT_EQ(now.count("etc/exliar-test/hooks/user-file"), 1u) << "never delete what is not ours";
}

}  // namespace
}  // namespace exliar::test
