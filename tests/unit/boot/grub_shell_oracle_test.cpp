// GRUB text that does not take effect (issue 14 item 7). The oracle is the shell itself:
// `sh -c '. ./grub; echo "$GRUB_CMDLINE_…"'`, with grub.d/*.cfg sourced the way Debian's
// grub-mkconfig does. For every file exliar either refuses (naming file and line) or
// reads exactly what sh reads, and an add it accepts reaches sh's value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "boot/grub.h"
#include "host/runner.h"
#include "host/text.h"

namespace exliar::boot {
namespace {

namespace fsys = std::filesystem;

struct Case {
  const char* name;
  std::string text;
  bool refused;            ///< exliar must refuse: the effective value cannot be known statically
  std::string local = "";  ///< ./grub.local, for `. ./grub.local`
};

std::vector<Case> cases() {
  const std::string q = "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n";
  return {
      {"plain", q + "GRUB_CMDLINE_LINUX=\"\"\n", false},
      {"sourced file", q + ". ./grub.local\n", true, "GRUB_CMDLINE_LINUX_DEFAULT=\"other\"\n"},
      {"source builtin", q + "source ./grub.local\n", true, "GRUB_CMDLINE_LINUX_DEFAULT=\"o\"\n"},
      {"unset", q + "unset GRUB_CMDLINE_LINUX_DEFAULT\n", true},
      {"unset other name", "A=1\nunset A\n" + q, false},
      {"here-document", q + "cat >/dev/null <<EOF\nGRUB_CMDLINE_LINUX_DEFAULT=\"heredoc\"\nEOF\n",
       false},
      {"here-document glued to the command",
       q + "cat>/dev/null<<EOF\nGRUB_CMDLINE_LINUX_DEFAULT=\"heredoc\"\nEOF\n", false},
      {"quoted tab-stripped here-document",
       q + "cat >/dev/null <<-'END'\n\tGRUB_CMDLINE_LINUX_DEFAULT=\"heredoc\"\n\tEND\n", false},
      {"if false block", q + "if false; then\nGRUB_CMDLINE_LINUX_DEFAULT=\"never\"\nfi\n", true},
      {"if false one line", q + "if false; then GRUB_CMDLINE_LINUX_DEFAULT=\"never\"; fi\n", true},
      {"prefix assignment", q + "GRUB_CMDLINE_LINUX_DEFAULT=\"prefix\" true\n", true},
      {"after &&", q + "false && GRUB_CMDLINE_LINUX_DEFAULT=\"maybe\"\n", true},
      {"after ||", q + "true || GRUB_CMDLINE_LINUX_DEFAULT=\"maybe\"\n", true},
      {"background", q + "GRUB_CMDLINE_LINUX_DEFAULT=\"bg\" &\nwait\n", true},
      {"pipeline", q + "GRUB_CMDLINE_LINUX_DEFAULT=\"pipe\" | true\n", true},
      {"function", q + "f() {\nGRUB_CMDLINE_LINUX_DEFAULT=\"fn\"\n}\n", true},
      {"braces", q + "{ GRUB_CMDLINE_LINUX_DEFAULT=\"brace\"; }\n", true},
      {"subshell", q + "(GRUB_CMDLINE_LINUX_DEFAULT=\"sub\")\n", true},
      {"case", "case x in\nx) GRUB_CMDLINE_LINUX=\"c\";;\nesac\n" + q, true},
      {"default expansion assigns", q + ": ${GRUB_CMDLINE_LINUX:=set}\n", true},
      {"read", q + "read GRUB_CMDLINE_LINUX </dev/null\n", true},
      {"eval", q + "eval 'GRUB_CMDLINE_LINUX_DEFAULT=ev'\n", true},
      {"exit", "exit 0\n" + q, true},
      {"loop variable", q + "for GRUB_CMDLINE_LINUX in a; do :; done\n", true},
      {"test reads a variable", q + "if [ -n \"$GRUB_CMDLINE_LINUX\" ]; then echo y; fi\n", false},
      {"redirection 2>&1", "echo hi >/dev/null 2>&1\n" + q, false},
      {"same line", "A=1; GRUB_CMDLINE_LINUX_DEFAULT=\"q $A\"\n", false},
      {"comment",
       "# it's \"fine\"; GRUB_CMDLINE_LINUX=x\n" + q +
           "GRUB_TIMEOUT=5 # GRUB_CMDLINE_LINUX_DEFAULT=\"c\"\n",
       false},
      {"export", "export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nexport GRUB_CMDLINE_LINUX\n",
       false},
      {"self reference", q + "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT splash\"\n",
       false},
      {"continued last line", "GRUB_TIMEOUT=5 \\", false},
      {"multi-line quote", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\nsplash\"\n", true},
  };
}

class Oracle : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-grub-oracle-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fsys::remove_all(dir_); }

  /// What sh sees: {GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT}.
  std::pair<std::string, std::string> sh_values(const std::string& grub, const std::string& local) {
    std::ofstream(dir_ + "/grub") << grub;
    std::ofstream(dir_ + "/grub.local") << local;
    ProcessRunner r;
    auto res = r.run({"sh", "-c",
                      "cd \"$1\" && . ./grub >/dev/null 2>&1; printf '%s\\n%s\\n' "
                      "\"$GRUB_CMDLINE_LINUX\" \"$GRUB_CMDLINE_LINUX_DEFAULT\"",
                      "sh", dir_},
                     {});
    EXPECT_TRUE(res);
    auto lines = split(res->out, '\n');
    return {std::string(lines.at(0)), std::string(lines.at(1))};
  }

  std::string dir_;
};

TEST_F(Oracle, ExliarReadsWhatTheShellReadsOrRefuses) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    std::vector<GrubSource> src{{"/etc/default/grub", c.text}};
    auto ev = evaluate_grub(src);
    if (c.refused) {
      ASSERT_FALSE(ev) << "accepted";
      EXPECT_EQ(ev.error().path, "/etc/default/grub");
      EXPECT_GT(ev.error().line, 0) << ev.error().describe();
      continue;
    }
    ASSERT_TRUE(ev) << ev.error().describe();
    auto [lin, def] = sh_values(c.text, c.local);
    EXPECT_EQ(join(grub_words(*ev, kGrubLinux), " "), join(kernel_words(lin), " "));
    EXPECT_EQ(join(grub_words(*ev, kGrubDefault), " "), join(kernel_words(def), " "));
    // An add exliar accepts reaches the value sh computes.
    auto edited = src;
    auto r = edit_grub(edited, {{ParamEdit::Op::add, "exliar_probe=1"}}, false);
    ASSERT_TRUE(r) << r.error().describe();
    auto [lin2, def2] = sh_values(edited[0].text, c.local);
    EXPECT_NE((lin2 + " " + def2).find("exliar_probe=1"), std::string::npos) << edited[0].text;
  }
}

TEST_F(Oracle, EveryRefusalNamesTheLine) {
  auto ev = evaluate_grub({{"/etc/default/grub", "GRUB_TIMEOUT=5\n\n. /etc/default/grub.local\n"}});
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().line, 3);
  EXPECT_NE(ev.error().message.find("runs other shell code"), std::string::npos);
  auto un = evaluate_grub(
      {{"/etc/default/grub", "GRUB_CMDLINE_LINUX=\"a\"\nunset GRUB_CMDLINE_LINUX\n"}});
  ASSERT_FALSE(un);
  EXPECT_EQ(un.error().line, 2);
  EXPECT_NE(un.error().message.find("may change GRUB_CMDLINE_LINUX"), std::string::npos);
  auto pre = evaluate_grub({{"/etc/default/grub", "GRUB_CMDLINE_LINUX=\"a\" true\n"}});
  ASSERT_FALSE(pre);
  EXPECT_NE(pre.error().message.find("prefix assignment"), std::string::npos);
}

// Item 15: metacharacters blame the parameter, not the file they would have broken.
TEST(GrubParams, ShellAndGrubMetacharactersAreRefusedNamingTheParameter) {
  for (const char* p : {"x=a;b", "#x", "x=$(id)", "x=`id`", "x=a|b", "x=a&b", "x={a}", "x=a>b"}) {
    SCOPED_TRACE(p);
    std::vector<GrubSource> src{{"/etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"}};
    auto r = edit_grub(src, {{ParamEdit::Op::add, p}}, false);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find(std::string("the parameter '") + p + "'"), std::string::npos)
        << r.error().describe();
    EXPECT_EQ(r.error().line, 0);
    EXPECT_EQ(src[0].text, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
  }
  for (const char* p : {"=", "=x"}) {
    std::vector<GrubSource> src{{"/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\n"}};
    auto r = edit_grub(src, {{ParamEdit::Op::add, p}}, false);
    ASSERT_FALSE(r) << p;
    EXPECT_NE(r.error().message.find("no name before '='"), std::string::npos);
  }
}

}  // namespace
}  // namespace exliar::boot
