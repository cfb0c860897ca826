// Bad inputs: each gives a clear message, the right exit code, and changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "host/runner.h"
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
  // The cleanup script must not copy it either: it names the damaged transaction in a
  // `bad` line (so the script fails) and restores nothing from it (item 4a).
  auto script = make_cleanup_script(*a.rig.fs);
  ASSERT_TRUE(script) << script.error().describe();
  EXPECT_HAS(*script, "\nbad '");
  EXPECT_HAS(*script, "../../../../../etc/secret");
  EXPECT_EQ(script->find("root:x:0:0"), std::string::npos) << *script;
  EXPECT_EQ(script->find("| restore"), std::string::npos) << *script;
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

// Issue 14 item 4a: a damaged journal is the problem of its own transaction only.
struct Cli {
  int code = -1;
  std::string out;
};

Cli exliar(const Rig& rig, std::vector<std::string> args) {
  args.insert(args.begin(), {EXLIAR_EXE, "--root", rig.root});
  ProcessRunner r;
  auto res = r.run(args, {});
  if (!res) return {-1, res.error().describe()};
  return {res->exit_code, res->out + res->err};
}

void corrupt_line_2(const Rig& rig, const std::string& id) {
  std::string p = "var/lib/exliar/transactions/" + id + "/log";
  std::string log = get(rig.root, p);
  size_t nl = log.find('\n') + 1;
  put(rig.root, p, log.substr(0, nl) + "{garbage\n" + log.substr(nl), 0600);
}

/// A plan touching other files than realistic_plan, so both can be applied at once.
Plan other_plan() {
  Plan p;
  p.intent.command = "apply";
  p.steps.push_back(
      edit_step({"/etc/modprobe.d/other.conf", std::nullopt, "options other=1\n", 0644},
                "a second, unrelated change", "test"));
  return p;
}

TEST(BadInput, DamagedOldTransactionBlocksOnlyItself) {
  Rig rig;
  auto first = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(first) << msg(first.error());
  ASSERT_TRUE(undo_transaction(*rig.ctx, first->id));
  auto second = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(second) << msg(second.error());
  corrupt_line_2(rig, first->id);
  const std::string bad_log = "transactions/" + first->id + "/log:2:";

  // (a) status: the second as usual, the first as damaged, exit 1 (findings), not 3.
  auto st = exliar(rig, {"status"});
  EXPECT_EQ(st.code, 1) << st.out;
  EXPECT_HAS(st.out, bad_log);
  EXPECT_HAS(st.out, "damaged");
  EXPECT_HAS(st.out, "transaction " + second->id);
  auto sj = exliar(rig, {"--json", "status"});
  EXPECT_EQ(sj.code, 1) << sj.out;
  auto j = nlohmann::json::parse(sj.out.substr(0, sj.out.rfind('}') + 1), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << sj.out;
  ASSERT_EQ(j["transactions"].size(), 2u) << sj.out;
  EXPECT_EQ(j["transactions"][0]["id"], first->id);
  EXPECT_EQ(j["transactions"][0]["state"], "damaged");
  EXPECT_HAS(j["transactions"][0].value("error", ""), bad_log);
  EXPECT_EQ(j["transactions"][1]["id"], second->id);
  EXPECT_EQ(j["transactions"][1]["state"], "applied");

  // (d) the rescue script undoes the healthy one and names the damaged one.
  auto script = make_cleanup_script(*rig.fs);
  ASSERT_TRUE(script) << script.error().describe();
  EXPECT_HAS(*script, "# transaction " + second->id);
  EXPECT_HAS(*script, "| restore '/etc/default/grub'");
  EXPECT_HAS(*script, "\nbad '");
  EXPECT_HAS(*script, bad_log);

  // The damaged one itself still refuses, naming the line; nothing changes.
  auto before = rig.now({});
  auto rb1 = undo_transaction(*rig.ctx, first->id);
  ASSERT_FALSE(rb1);
  EXPECT_EQ(rb1.error().exit_code, 3);
  EXPECT_HAS(msg(rb1.error()), bad_log);
  EXPECT_EQ(tree_diff(before, rig.now({})), "");

  // (b) rolling back the second is not blocked by the older damaged one.
  auto rb2 = undo_transaction(*rig.ctx, second->id);
  ASSERT_TRUE(rb2) << msg(rb2.error());
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
  EXPECT_EQ(load_transaction(*rig.fs, second->id)->state, TxState::rolled_back);

  // (c) a newer closed transaction proves the damaged one was closed: apply works, warning.
  auto third = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(third) << msg(third.error());
  ASSERT_EQ(third->warnings.size(), 1u);
  EXPECT_HAS(third->warnings[0], bad_log);
  TxOptions force;
  force.force = true;
  auto rb3 = undo_transaction(*rig.ctx, third->id, force);
  ASSERT_TRUE(rb3) << msg(rb3.error());
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

TEST(BadInput, DamagedNewestTransactionStillBlocksApply) {
  Applied a;
  ASSERT_TRUE(undo_transaction(*a.rig.ctx, a.id));
  corrupt_line_2(a.rig, a.id);
  auto before = a.rig.now({});
  auto r = apply_plan(*a.rig.ctx, realistic_plan());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "transactions/" + a.id + "/log:2:");
  EXPECT_HAS(msg(r.error()), "cannot tell whether it was interrupted");
  auto in_effect = plan_in_effect_locked(*a.rig.fs, realistic_plan());
  ASSERT_FALSE(in_effect);
  EXPECT_HAS(msg(in_effect.error()), "transactions/" + a.id + "/log:2:");
  EXPECT_EQ(tree_diff(before, a.rig.now({})), "");
  auto st = exliar(a.rig, {"status"});
  EXPECT_EQ(st.code, 1) << st.out;
  EXPECT_HAS(st.out, "transactions/" + a.id + "/log:2:");
}

// We cannot know what a damaged newer transaction changed: it blocks rolling back an
// older one unless --force.
TEST(BadInput, DamagedNewerTransactionBlocksRollingBackAnOlderUnlessForced) {
  Applied a;
  auto b = apply_plan(*a.rig.ctx, other_plan());
  ASSERT_TRUE(b) << msg(b.error());
  corrupt_line_2(a.rig, b->id);
  auto before = a.rig.now({});
  auto r = undo_transaction(*a.rig.ctx, a.id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code, 3);
  EXPECT_HAS(msg(r.error()), "transaction " + b->id);
  EXPECT_HAS(msg(r.error()), "transactions/" + b->id + "/log:2:");
  EXPECT_HAS(msg(r.error()), "--force");
  EXPECT_EQ(tree_diff(before, a.rig.now({})), "");
  TxOptions force;
  force.force = true;
  auto f = undo_transaction(*a.rig.ctx, a.id, force);
  ASSERT_TRUE(f) << msg(f.error());
  EXPECT_EQ(load_transaction(*a.rig.fs, a.id)->state, TxState::rolled_back);
  std::string diff = tree_diff(a.rig.original, a.rig.now());
  EXPECT_HAS(diff, "etc/modprobe.d/other.conf");
  EXPECT_EQ(std::count(diff.begin(), diff.end(), '\n'), 1) << "only b's file remains:\n" << diff;
}

}  // namespace
}  // namespace exliar::test
