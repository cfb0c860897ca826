// `exliar boot show|add|remove` end to end on a fixture root.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

void make_ubuntu(test::TempRoot& root) {
  root.write("/etc/os-release", "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n");
  root.write("/etc/default/grub", test::data("proxmox-ve-intel-iommu.etc-default-grub"));
  root.write("/proc/cmdline", test::data("asrock-z370_ubuntu-6.8.proc-cmdline"));
}

TEST(BootCli, ShowJsonNamesFileLineAndDiffAgainstRunningKernel) {
  test::TempRoot root;
  make_ubuntu(root);
  auto r = exliar({"--root", root.dir(), "boot", "show", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["backend"], "grub");
  auto& e = j["entries"][0];
  EXPECT_EQ(e["params"], nlohmann::json({"quiet", "intel_iommu=on"}));
  EXPECT_EQ(e["origins"][1]["path"], "/etc/default/grub");
  EXPECT_EQ(e["origins"][1]["line"], 10);
  EXPECT_EQ(e["not_running"], nlohmann::json({"intel_iommu=on"}));
  EXPECT_EQ(e["not_configured"], nlohmann::json({"splash"}));  // BOOT_IMAGE/root/ro come from GRUB
  auto text = exliar({"--root", root.dir(), "boot", "show"});
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("/etc/default/grub:10"), std::string::npos) << text.out;
}

TEST(BootCli, MalformedFileIsAnErrorWithFileAndLine) {
  test::TempRoot root;
  make_ubuntu(root);
  root.write("/etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\r\n");
  auto r = exliar({"--root", root.dir(), "boot", "add", "iommu=pt", "--yes"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("/etc/default/grub:1:"), std::string::npos) << r.err;
  EXPECT_EQ(root.read("/etc/default/grub"), "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\r\n");
}

TEST(BootCli, AddWithoutTtyOrYesRefusesAndChangesNothing) {
  test::TempRoot root;
  make_ubuntu(root);
  auto before = root.read("/etc/default/grub");
  auto r = exliar({"--root", root.dir(), "boot", "add", "iommu=pt"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("iommu=pt"), std::string::npos);  // the plan was shown
  EXPECT_EQ(root.read("/etc/default/grub"), before);
  // Until the transaction engine is in the build, --yes refuses too (exit 3, no change).
  auto yes = exliar({"--root", root.dir(), "boot", "add", "iommu=pt", "--yes"});
  EXPECT_TRUE(yes.code == 0 || yes.code == 3) << yes.err;
  if (yes.code == 3) {
    EXPECT_EQ(root.read("/etc/default/grub"), before);
  }
  auto bad = exliar({"--root", root.dir(), "boot", "add", "a b", "--yes"});
  EXPECT_EQ(bad.code, 2);
  auto noop = exliar({"--root", root.dir(), "boot", "add", "intel_iommu=on", "--yes"});
  EXPECT_EQ(noop.code, 0) << noop.err;
  EXPECT_NE(noop.err.find("nothing to do"), std::string::npos);
}

}  // namespace
}  // namespace exliar::boot
