// Temp files after a crash (issue 14 item 8): a kill between creating a temp file and
// renaming it over its target must leave nothing that recovery does not remove. The test
// binary interposes renameat (RealFs is linked statically into it): the Nth call "loses
// power" (_exit in a forked child) just before renaming, as a kill -9 would.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "state/cleanup_script.h"
#include "state/journal.h"
#include "state/transaction.h"
#include "unit/state/fixture.h"

namespace {
int g_renames = 0;    ///< renameat calls since the counter was reset
int g_crash_at = -1;  ///< the call that never happens
}  // namespace

extern "C" int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) {
  if (g_renames++ == g_crash_at) ::_exit(77);
  return static_cast<int>(::syscall(SYS_renameat, olddirfd, oldpath, newdirfd, newpath));
}

namespace exliar::test {
namespace {

namespace fsys = std::filesystem;

/// Temp files anywhere under the root, relative paths.
std::vector<std::string> temps(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : fsys::recursive_directory_iterator(root))
    if (e.path().filename().string().find(".exliar-tmp") != std::string::npos)
      out.push_back(fsys::relative(e.path(), root).string());
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += " " + x;
  return s;
}

/// Rolls back whatever the crash left open, then checks the tree and the temp files:
/// none anywhere, except in a transaction directory abandoned before its log existed
/// (a transaction that never began; nothing outside the journal was touched).
void recover_and_check(Rig& rig, const std::string& what) {
  recover_and_compare(rig, what);
  std::vector<std::string> left;
  for (const auto& t : temps(rig.root)) {
    auto dir = fsys::path(t).parent_path();
    bool abandoned = t.starts_with("var/lib/exliar/transactions/") &&
                     !fsys::exists(fsys::path(rig.root) / dir / "log");
    if (!abandoned) left.push_back(t);
  }
  EXPECT_TRUE(left.empty()) << what << ": left behind:" << joined(left);
}

/// Runs f on a rig prepared by `before` to count its renames, then once per rename on a
/// fresh rig, crashing just before that rename, and checks what recovery makes of it.
void crash_before_every_rename(const std::function<void(Rig&)>& before,
                               const std::function<void(Rig&)>& f, const std::string& what,
                               int at_least) {
  int total = 0;
  {
    Rig rig;
    before(rig);
    g_renames = 0;
    f(rig);
    total = g_renames;
  }
  ASSERT_GE(total, at_least) << what;
  for (int k = 0; k < total; ++k) {
    Rig rig;
    before(rig);
    in_child([&] {
      g_renames = 0;
      g_crash_at = k;
      f(rig);
    });
    recover_and_check(rig, what + ", crash before rename " + std::to_string(k));
  }
}

TEST(TempFiles, ACrashBeforeAnyRenameOfApplyLeavesNoTempFile) {
  crash_before_every_rename([](Rig&) {}, [](Rig& r) { (void)apply_plan(*r.ctx, realistic_plan()); },
                            "apply", 10);
}

TEST(TempFiles, ACrashBeforeAnyRenameOfRollbackLeavesNoTempFile) {
  crash_before_every_rename([](Rig& r) { ASSERT_TRUE(apply_plan(*r.ctx, realistic_plan())); },
                            [](Rig& r) { (void)undo_transaction(*r.ctx, ""); }, "rollback", 3);
}

TEST(TempFiles, TheCleanupScriptRemovesTheTempFileACrashLeft) {
  Rig rig;
  // The first crash point that leaves a temp file beside a target (an edit of /etc).
  int crash = -1;
  for (int k = 0; crash < 0 && k < 40; ++k) {
    Rig r;
    in_child([&] {
      g_renames = 0;
      g_crash_at = k;
      (void)apply_plan(*r.ctx, realistic_plan());
    });
    for (const auto& t : temps(r.root))
      if (!t.starts_with("var/")) crash = k;
  }
  ASSERT_GE(crash, 0) << "no crash point left a temp file beside a target";
  in_child([&] {
    g_renames = 0;
    g_crash_at = crash;
    (void)apply_plan(*rig.ctx, realistic_plan());
  });
  std::vector<std::string> outside;
  for (const auto& t : temps(rig.root))
    if (!t.starts_with("var/")) outside.push_back(t);
  ASSERT_FALSE(outside.empty());
  g_crash_at = -1;
  auto script = make_cleanup_script(*rig.fs);
  ASSERT_TRUE(script) << script.error().describe();
  std::string path = rig.tmp.path() + "/cleanup.sh";
  put("/", path.substr(1), *script, 0700);
  std::string cmd = "sh " + path + " " + rig.root + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << *script;
  for (const auto& t : temps(rig.root)) EXPECT_TRUE(t.starts_with("var/")) << "left: " << t;
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "");
}

}  // namespace
}  // namespace exliar::test
