// apply + rollback give back the original inode (issue 14 item 12): a hard-linked file is
// linked again afterwards, and extended attributes (user.*, and with them SELinux labels
// and file capabilities, which live in xattrs too) survive both the edit and the rollback.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "state/journal.h"
#include "state/transaction.h"
#include "unit/state/fixture.h"

namespace exliar::test {
namespace {

struct stat stat_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

std::string xattr(const std::string& p, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

class Inode : public ::testing::Test {
 protected:
  void SetUp() override {
    grub = rig.root + "/etc/default/grub";
    // Another name for the same file (as when /etc/default/grub is a hard link kept by a
    // configuration manager), and an attribute on it.
    ASSERT_EQ(::link(grub.c_str(), (rig.root + "/etc/grub.saved").c_str()), 0);
    if (::lsetxattr(grub.c_str(), "user.exliar-test", "kept", 4, 0) != 0)
      GTEST_SKIP() << "this filesystem has no user xattrs";
    before = stat_of(grub);
    rig.original = rig.now();
  }
  Rig rig;
  std::string grub;
  struct stat before {};
};

TEST_F(Inode, ApplyKeepsTheAttributesOfTheFileItEdits) {
  ASSERT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
  EXPECT_EQ(get(rig.root, "etc/default/grub"), kGrubAfter);
  EXPECT_EQ(xattr(grub, "user.exliar-test"), "kept");
}

TEST_F(Inode, RollbackGivesBackTheOriginalInodeWithItsLinksAndAttributes) {
  ASSERT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
  auto r = undo_transaction(*rig.ctx, "");
  ASSERT_TRUE(r) << r.error().error.describe();
  struct stat after = stat_of(grub);
  EXPECT_EQ(after.st_ino, before.st_ino) << "rollback left a copy, not the original file";
  EXPECT_EQ(after.st_nlink, 2u) << "the hard link to /etc/grub.saved was split";
  EXPECT_EQ(xattr(grub, "user.exliar-test"), "kept");
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

TEST_F(Inode, AnInodeChangedThroughItsOtherNameIsNotPutBack) {
  // While applied, the original content was changed through the other link: rollback must
  // restore the content saved at apply time, not the inode that no longer holds it.
  ASSERT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
  put(rig.root, "etc/grub.saved", "changed through the other link\n");
  auto r = undo_transaction(*rig.ctx, "");
  ASSERT_TRUE(r) << r.error().error.describe();
  EXPECT_EQ(get(rig.root, "etc/default/grub"), kGrubBefore);
  EXPECT_EQ(xattr(grub, "user.exliar-test"), "kept");
}

TEST_F(Inode, ACrashedRollbackFinishesWithTheOriginalInode) {
  ASSERT_TRUE(apply_plan(*rig.ctx, realistic_plan()));
  // First rollback dies after restoring the first file (its "undone" record).
  in_child([&] {
    TxOptions o;
    size_t n = 0;
    o.after_record = [&](size_t) {
      if (++n == 3) ::_exit(77);
    };
    (void)undo_transaction(*rig.ctx, "", o);
  });
  auto r = undo_transaction(*rig.ctx, "");
  ASSERT_TRUE(r) << r.error().error.describe();
  EXPECT_EQ(stat_of(grub).st_ino, before.st_ino);
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

}  // namespace
}  // namespace exliar::test
