// Fault injection: every filesystem mutation and every command of a realistic plan fails
// in turn; crashes are simulated after every journal record and before every mutation.
// Each time the tree must come back byte-identical.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/journal.h"
#include "state/transaction.h"
#include "unit/state/fixture.h"

namespace exliar::test {
namespace {

int count_mutations() {
  Rig rig;
  EXPECT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
  return rig.fs->mutations;
}

size_t count_records() {
  Rig rig;
  size_t n = 0;
  TxOptions o;
  o.after_record = [&](size_t) { ++n; };
  EXPECT_TRUE(apply_plan(*rig.ctx, realistic_plan(), o));
  return n;
}

TEST(Faults, EveryFailingMutationIsRolledBack) {
  int total = count_mutations();
  ASSERT_GT(total, 20);
  for (int n = 0; n < total; ++n) {
    Rig rig;
    rig.fs->fail_at = n;
    auto out = apply_plan(*rig.ctx, realistic_plan());
    ASSERT_FALSE(out) << "mutation " << n << " failed but apply succeeded";
    EXPECT_TRUE(out.error().exit_code == 4 || out.error().exit_code == 3) << n;
    EXPECT_NE(out.error().error.message.find("injected failure"), std::string::npos)
        << out.error().error.message;
    EXPECT_EQ(tree_diff(rig.original, rig.now()), "") << "after failing mutation " << n;
    // Nothing is left half-done: the next apply works.
    rig.fs->fail_at = -1;
    auto again = apply_plan(*rig.ctx, realistic_plan());
    EXPECT_TRUE(again) << n << ": " << again.error().error.describe();
  }
}

TEST(Faults, PersistentFailureIsRecoveredByRollbackOnceTheDiskWorks) {
  int total = count_mutations();
  for (int n = 0; n < total; ++n) {
    Rig rig;
    rig.fs->fail_at = n;
    rig.fs->persistent = true;  // the disk stays broken during the automatic rollback too
    auto out = apply_plan(*rig.ctx, realistic_plan());
    ASSERT_FALSE(out) << n;
    rig.fs->fail_at = -1;
    auto ids = list_transactions(*rig.fs);
    ASSERT_TRUE(ids);
    bool interrupted = false;
    for (const auto& id : *ids)
      interrupted = interrupted || load_transaction(*rig.fs, id)->interrupted();
    if (interrupted) {
      auto blocked = apply_plan(*rig.ctx, realistic_plan());
      ASSERT_FALSE(blocked) << n;
      EXPECT_EQ(blocked.error().exit_code, 3);
      auto rec = undo_transaction(*rig.ctx, "");
      ASSERT_TRUE(rec) << n << ": " << rec.error().error.describe();
    }
    EXPECT_EQ(tree_diff(rig.original, rig.now()), "") << "after persistent failure from " << n;
  }
}

TEST(Faults, EveryFailingCommandIsRolledBack) {
  for (int n = 0; n < 2; ++n) {
    for (bool cannot_start : {true, false}) {
      Rig rig;
      rig.go_live();
      TxOptions root;
      root.euid = 0;
      if (cannot_start) {
        rig.runner.fail_from = n;
      } else {
        for (int k = 0; k < n; ++k) rig.runner.answers.push_back(CommandResult{});
        rig.runner.answers.push_back(
            CommandResult{1, false, "", "==> ERROR: module not found: 'vfio'\n"});
      }
      auto out = apply_plan(*rig.ctx, realistic_plan(), root);
      ASSERT_FALSE(out);
      EXPECT_EQ(out.error().exit_code, 4);
      EXPECT_NE(out.error().error.message.find("Every change was undone"), std::string::npos)
          << out.error().error.message;
      if (!cannot_start) {
        EXPECT_NE(out.error().error.message.find("module not found"), std::string::npos);
      }
      EXPECT_EQ(tree_diff(rig.original, rig.now()), "") << "command " << n;
    }
  }
}

TEST(Crash, AfterEveryJournalRecordRecoveryRestoresTheOriginal) {
  size_t total = count_records();
  ASSERT_GT(total, 20u);
  for (size_t k = 0; k < total; ++k) {
    Rig rig;
    in_child([&] {
      TxOptions o;
      o.after_record = [&](size_t i) {
        if (i == k) ::_exit(77);  // power cut: no cleanup, no destructors
      };
      (void)apply_plan(*rig.ctx, realistic_plan(), o);
    });
    recover_and_compare(rig, "crash after record " + std::to_string(k));
  }
}

TEST(Crash, BeforeEveryMutationRecoveryRestoresTheOriginal) {
  int total = count_mutations();
  for (int n = 0; n < total; ++n) {
    Rig rig;
    in_child([&] {
      rig.fs->crash_at = n;
      rig.fs->crash = [] { ::_exit(77); };
      (void)apply_plan(*rig.ctx, realistic_plan());
    });
    recover_and_compare(rig, "crash before mutation " + std::to_string(n));
  }
}

TEST(Crash, DuringRollbackAndDuringAutomaticRollbackRecoveryFinishesTheJob) {
  // Crash at each record of a user rollback.
  for (size_t k = 0; k < 12; ++k) {
    Rig rig;
    ASSERT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
    in_child([&] {
      TxOptions o;
      o.after_record = [&](size_t i) {
        if (i == k) ::_exit(77);
      };
      (void)undo_transaction(*rig.ctx, "", o);
    });
    recover_and_compare(rig, "crash in rollback at record " + std::to_string(k));
  }
  // A step fails, and the process dies while undoing it.
  for (size_t k = 0; k < 8; ++k) {
    Rig rig;
    size_t first = 0;
    {
      Rig probe;
      probe.fs->fail_at = 12;
      TxOptions o;
      o.after_record = [&](size_t) { ++first; };
      (void)apply_plan(*probe.ctx, realistic_plan(), o);
    }
    in_child([&] {
      rig.fs->fail_at = 12;
      TxOptions o;
      size_t limit = first > 8 ? first - 8 + k : k;
      o.after_record = [&](size_t i) {
        if (i == limit) ::_exit(77);
      };
      (void)apply_plan(*rig.ctx, realistic_plan(), o);
    });
    recover_and_compare(rig, "crash during automatic rollback " + std::to_string(k));
  }
}

}  // namespace
}  // namespace exliar::test
