// GRUB drop-ins as grub-mkconfig reads them (issue 14 item 7): dotfiles are not part of
// the *.cfg glob, a link that leaves the root is an error, and `boot add` on a file that
// sources another refuses with file:line and changes nothing (item 15: `boot add =`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "boot_test_util.h"
#include "host/runner.h"

namespace exliar::boot {
namespace {

struct Run {
  int code;
  std::string out, err;
};

Run exliar(const std::vector<std::string>& args) {
  ProcessRunner r;
  std::vector<std::string> argv{EXLIAR_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  auto res = r.run(argv, {});
  EXPECT_TRUE(res);
  return {res->exit_code, res->out, res->err};
}

/// The effective value, asked of the shell the way grub-mkconfig sources the files.
std::string sh_default(const std::string& root) {
  ProcessRunner r;
  auto res = r.run({"sh", "-c",
                    "cd \"$1/etc/default\" && . ./grub; for x in ./grub.d/*.cfg; do "
                    "if [ -e \"$x\" ]; then . \"$x\"; fi; done; "
                    "echo \"$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT\"",
                    "sh", root},
                   {});
  EXPECT_TRUE(res);
  return res->out;
}

void make_ubuntu(test::TempRoot& root) {
  root.write("/etc/os-release", "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n");
  root.write(
      "/etc/default/grub",
      "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n");
  root.write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet splash\n");
}

TEST(GrubDropins, HiddenDropinIsNotReadLikeGrubMkconfig) {
  test::TempRoot root;
  make_ubuntu(root);
  root.write("/etc/default/grub.d/.hidden.cfg", "GRUB_CMDLINE_LINUX_DEFAULT=\"hidden\"\n");
  auto r = exliar({"--root", root.dir(), "boot", "add", "exliar_probe=1", "--yes"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(root.read("/etc/default/grub.d/.hidden.cfg"),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"hidden\"\n");
  EXPECT_NE(sh_default(root.dir()).find("exliar_probe=1"), std::string::npos)
      << root.read("/etc/default/grub");
}

TEST(GrubDropins, LinkLeavingTheRootIsAnError) {
  test::TempRoot root;
  make_ubuntu(root);
  std::filesystem::create_directories(root.dir() + "/etc/default/grub.d");
  std::filesystem::create_symlink("/etc/hostname", root.dir() + "/etc/default/grub.d/50-out.cfg");
  std::string before = root.read("/etc/default/grub");
  auto r = exliar({"--root", root.dir(), "boot", "add", "exliar_probe=1", "--yes"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("/etc/default/grub.d/50-out.cfg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("symbolic link that leaves"), std::string::npos) << r.err;
  EXPECT_EQ(root.read("/etc/default/grub"), before);
}

TEST(GrubDropins, SourcedFileRefusesWithFileAndLine) {
  test::TempRoot root;
  make_ubuntu(root);
  root.write("/etc/default/grub", root.read("/etc/default/grub") + ". /etc/default/grub.local\n");
  std::string before = root.read("/etc/default/grub");
  auto r = exliar({"--root", root.dir(), "boot", "add", "exliar_probe=1", "--yes"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("/etc/default/grub:4"), std::string::npos) << r.err;
  EXPECT_EQ(root.read("/etc/default/grub"), before);
}

TEST(GrubDropins, BadParametersAreBlamedNotTheFile) {
  test::TempRoot root;
  make_ubuntu(root);
  std::string before = root.read("/etc/default/grub");
  for (const char* p : {"=", "x=a;b", "#x", "x=$(id)"}) {
    auto r = exliar({"--root", root.dir(), "boot", "add", p, "--yes"});
    EXPECT_NE(r.code, 0) << p;
    EXPECT_NE(r.err.find(std::string("'") + p + "'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("/etc/default/grub:"), std::string::npos) << r.err;
    EXPECT_EQ(root.read("/etc/default/grub"), before);
  }
}

}  // namespace
}  // namespace exliar::boot
