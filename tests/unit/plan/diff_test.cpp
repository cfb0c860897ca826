#include "plan/diff.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace exliar {
namespace {

TEST(Diff, EqualTextHasNoDiff) { EXPECT_EQ(unified_diff("/etc/x", "a\n", "a\n"), ""); }

TEST(Diff, OneChangedLineWithContext) {
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  std::string b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  EXPECT_EQ(
      unified_diff("/etc/default/grub", a, b),
      "--- a/etc/default/grub\n+++ b/etc/default/grub\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n"
      " 6\n 7\n 8\n");
}

TEST(Diff, CreatedAndDeletedFiles) {
  EXPECT_EQ(unified_diff("/etc/new", std::nullopt, "x\ny\n"),
            "--- /dev/null\n+++ b/etc/new\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  EXPECT_EQ(unified_diff("/etc/old", "x\n", std::nullopt),
            "--- a/etc/old\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n");
}

TEST(Diff, MissingFinalNewlineIsShown) {
  EXPECT_EQ(unified_diff("/f", "a\nb", "a\nb\n"),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
}

TEST(Diff, FarApartChangesMakeTwoHunks) {
  std::string a, b;
  for (int i = 0; i < 30; ++i) {
    a += std::to_string(i) + "\n";
    b += (i == 2 || i == 25 ? "x" : std::to_string(i)) + "\n";
  }
  auto d = unified_diff("/f", a, b);
  EXPECT_NE(d.find("@@ -1,6 +1,6 @@"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -23,7 +23,7 @@"), std::string::npos) << d;
}

TEST(Diff, ColourOnlyWhenAsked) {
  auto plain = unified_diff("/f", "a\n", "b\n");
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  auto color = unified_diff("/f", "a\n", "b\n", {3, true});
  EXPECT_NE(color.find("\033[31m-a\033[0m"), std::string::npos);
  EXPECT_NE(color.find("\033[32m+b\033[0m"), std::string::npos);
}

// patch(1) is an independent oracle: applying our diff to `before` must give `after`.
RC_GTEST_PROP(Diff, PatchAppliesOurDiff, ()) {
  if (::access("/usr/bin/patch", X_OK) != 0) return;
  auto line = rc::gen::element<std::string>("a", "b", "c", "GRUB_X=1", "", "# c");
  auto a = *rc::gen::container<std::vector<std::string>>(line);
  auto b = *rc::gen::container<std::vector<std::string>>(line);
  bool a_nl = *rc::gen::arbitrary<bool>(), b_nl = *rc::gen::arbitrary<bool>();
  auto text = [](const std::vector<std::string>& v, bool nl) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += v[i] + (i + 1 < v.size() || nl ? "\n" : "");
    return s;
  };
  std::string before = text(a, a_nl), after = text(b, b_nl);
  auto d = unified_diff("/f", before, after);
  if (before == after) {
    RC_ASSERT(d.empty());
    return;
  }
  char dir[] = "/tmp/exliar-diff-XXXXXX";
  RC_ASSERT(::mkdtemp(dir) != nullptr);
  std::string f = std::string(dir) + "/f";
  std::ofstream(f, std::ios::binary) << before;
  std::ofstream(f + ".diff", std::ios::binary) << d;
  int rc = std::system(("patch -s -f " + f + " " + f + ".diff >/dev/null 2>&1").c_str());
  std::ifstream in(f, std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  std::system(("rm -rf " + std::string(dir)).c_str());
  RC_ASSERT(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
  RC_ASSERT(got.str() == after);
}

}  // namespace
}  // namespace exliar
