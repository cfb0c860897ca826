// Apply a realistic plan to a copy of a machine and roll it back: byte-identical tree.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "host/paths.h"
#include "state/journal.h"
#include "state/transaction.h"
#include "unit/state/fixture.h"

namespace exliar::test {
namespace {

TEST(Transaction, ApplyThenRollbackRestoresTheTreeByteForByte) {
  Rig rig;
  auto plan = realistic_plan();
  auto t0 = std::chrono::steady_clock::now();
  auto out = apply_plan(*rig.ctx, plan);
  ASSERT_TRUE(out) << out.error().error.describe();
  EXPECT_TRUE(out->changed);
  EXPECT_FALSE(out->id.empty());
  // Not the live system: commands are recorded, never run.
  EXPECT_TRUE(rig.runner.calls.empty());
  EXPECT_EQ(out->pending, (std::vector<std::string>{"mkinitcpio -P", "update-grub"}));

  EXPECT_EQ(get(rig.root, "etc/default/grub"), kGrubAfter);
  EXPECT_EQ(get(rig.root, "sys/bus/pci/devices/0000:01:00.0/driver_override"), "vfio-pci");
  auto now = rig.now();
  EXPECT_EQ(now.count("etc/modprobe.d/old-vfio.conf"), 0u);
  EXPECT_EQ(now.at("etc/mkinitcpio.conf").mode, 0600u) << "an edited file keeps its mode";
  EXPECT_EQ(now.at("etc/exliar-test/hooks/early/vfio.hook").mode, 0755u);
  EXPECT_EQ(now.at("etc/exliar-test/hooks").type, 'd');
  EXPECT_EQ(now.at("etc/os-release").type, 'l');

  auto back = undo_transaction(*rig.ctx, "");
  ASSERT_TRUE(back) << back.error().error.describe();
  auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(back->id, out->id);
  EXPECT_EQ(back->pending, (std::vector<std::string>{"mkinitcpio -P", "update-grub"}));
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
  RecordProperty(
      "apply_rollback_us",
      std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));

  auto tx = load_transaction(*rig.fs, out->id);
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->state, TxState::rolled_back);
}

TEST(Transaction, JournalHoldsPlanBackupsWithHashModeOwnerAndStepLog) {
  Rig rig;
  auto out = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(out);
  auto tx = load_transaction(*rig.fs, out->id);
  ASSERT_TRUE(tx) << tx.error().describe();
  EXPECT_EQ(tx->state, TxState::committed);
  EXPECT_EQ(tx->plan, realistic_plan());
  const JournalRecord* b = tx->find("backup", 4);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->path, "/etc/mkinitcpio.conf");
  EXPECT_EQ(b->mode, 0600u);
  EXPECT_EQ(b->sha256.size(), 64u);
  EXPECT_EQ(get(rig.root, "var/lib/exliar/transactions/" + out->id + "/" + b->file),
            "MODULES=()\nHOOKS=(base udev autodetect)");
  const JournalRecord* m = tx->find("mkdir", 2);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->dirs, (std::vector<std::string>{"/etc/exliar-test", "/etc/exliar-test/hooks",
                                               "/etc/exliar-test/hooks/early"}));
  for (int i = 0; i < 8; ++i) {
    EXPECT_NE(tx->find("start", i), nullptr) << i;
    EXPECT_NE(tx->find("done", i), nullptr) << i;
  }
  EXPECT_NE(tx->find("pending", 5), nullptr);
}

TEST(Transaction, SamePlanTwiceChangesNothingTheSecondTime) {
  Rig rig;
  auto plan = realistic_plan();
  auto first = apply_plan(*rig.ctx, plan);
  ASSERT_TRUE(first);
  auto after_first = rig.now();
  auto ids = list_transactions(*rig.fs);
  auto second = apply_plan(*rig.ctx, plan);
  ASSERT_TRUE(second) << second.error().error.describe();
  EXPECT_FALSE(second->changed);
  EXPECT_TRUE(second->id.empty());
  EXPECT_EQ(tree_diff(after_first, rig.now()), "");
  EXPECT_EQ(*list_transactions(*rig.fs), *ids) << "no second transaction is recorded";
}

TEST(Transaction, LiveSystemRunsCommandsThroughTheRunnerAndUndoRerunsThem) {
  Rig rig;
  rig.go_live();
  TxOptions root;
  root.euid = 0;
  auto out = apply_plan(*rig.ctx, realistic_plan(), root);
  ASSERT_TRUE(out) << out.error().error.describe();
  EXPECT_TRUE(out->pending.empty());
  ASSERT_EQ(rig.runner.calls.size(), 2u);
  EXPECT_EQ(rig.runner.calls[0].argv, (std::vector<std::string>{"mkinitcpio", "-P"}));
  EXPECT_EQ(rig.runner.calls[1].argv, (std::vector<std::string>{"update-grub"}));
  auto back = undo_transaction(*rig.ctx, out->id, root);
  ASSERT_TRUE(back) << back.error().error.describe();
  ASSERT_EQ(rig.runner.calls.size(), 4u) << "regeneration re-run after restoring the files";
  EXPECT_EQ(rig.runner.calls[2].argv, (std::vector<std::string>{"mkinitcpio", "-P"}));
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

TEST(Transaction, PartlyAppliedPlanOnlyChangesWhatIsMissing) {
  Rig rig;
  put(rig.root, "etc/default/grub", kGrubAfter);  // already done by hand
  auto out = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(out) << out.error().error.describe();
  auto tx = load_transaction(*rig.fs, out->id);
  EXPECT_NE(tx->find("skip", 0), nullptr);
  EXPECT_EQ(tx->find("backup", 0), nullptr);
  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  EXPECT_EQ(get(rig.root, "etc/default/grub"), kGrubAfter) << "not ours to undo";
}

TEST(Transaction, TwoTransactionsRollBackNewestFirst) {
  Rig rig;
  auto a = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(a);
  Plan p2;
  p2.intent.command = "boot add";
  p2.steps.push_back(
      edit_step({"/etc/default/grub", kGrubAfter, std::string(kGrubAfter) + "# more\n", 0644},
                "second", "boot/grub"));
  auto b = apply_plan(*rig.ctx, p2);
  ASSERT_TRUE(b) << b.error().error.describe();
  EXPECT_LT(a->id, b->id);
  auto early = undo_transaction(*rig.ctx, a->id);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().exit_code, 3);
  EXPECT_NE(early.error().error.message.find("roll back " + b->id + " first"), std::string::npos);
  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

// Ids are "NNNN-time"; past 9999 the sequence grows a digit, and "10000-…" sorts before
// "9999-…" as text. The newest must still be the one rolled back first.
TEST(Transaction, IdsPastTheFourthDigitStillSortByAge) {
  Rig rig;
  auto a = apply_plan(*rig.ctx, realistic_plan());
  ASSERT_TRUE(a);
  std::string txdir = rig.root + std::string(paths::kTransactionsDir) + "/";
  std::string old_id = "9999" + a->id.substr(a->id.find('-'));
  ASSERT_EQ(::rename((txdir + a->id).c_str(), (txdir + old_id).c_str()), 0);
  Plan p2;
  p2.intent.command = "boot add";
  p2.steps.push_back(
      edit_step({"/etc/default/grub", kGrubAfter, std::string(kGrubAfter) + "# more\n", 0644},
                "second", "boot/grub"));
  auto b = apply_plan(*rig.ctx, p2);
  ASSERT_TRUE(b) << b.error().error.describe();
  EXPECT_EQ(b->id.substr(0, 6), "10000-");
  auto ids = list_transactions(*rig.fs);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{old_id, b->id}));
  auto early = undo_transaction(*rig.ctx, old_id);
  ASSERT_FALSE(early) << "rolling back the older one would discard the newer one's edit";
  EXPECT_NE(early.error().error.message.find("roll back " + b->id + " first"), std::string::npos);
  auto first = undo_transaction(*rig.ctx, "");
  ASSERT_TRUE(first) << first.error().error.describe();
  EXPECT_EQ(first->id, b->id);
  ASSERT_TRUE(undo_transaction(*rig.ctx, ""));
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

TEST(Transaction, IdOrderIsNumericThenText) {
  EXPECT_TRUE(transaction_older("9999-20261204T000000Z", "10000-20261204T000000Z"));
  EXPECT_FALSE(transaction_older("10000-20261204T000000Z", "9999-20261204T000000Z"));
  EXPECT_TRUE(transaction_older("0002-20261204T000000Z", "0010-20261204T000000Z"));
  EXPECT_TRUE(transaction_older("0002-20261204T000000Z", "0002-20261204T000001Z"));
  EXPECT_FALSE(transaction_older("0002-x", "0002-x"));
  EXPECT_TRUE(transaction_older("", "0001-x")) << "no sequence sorts first";
}

}  // namespace
}  // namespace exliar::test
