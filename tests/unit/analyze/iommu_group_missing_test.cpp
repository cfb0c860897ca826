// A GPU without its iommu_group link on a host whose IOMMU is active (issue 14 item 13):
// its isolation is unknown, and unknown state blocks both `check` and `apply`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "host/runner.h"

namespace exliar {
namespace {

namespace fsys = std::filesystem;

class GroupMissing : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-nogroup-XXXXXX";
    tmp_ = ::mkdtemp(tmpl);
    root_ = tmp_ + "/root";
    sh("cp -a '" + std::string(EXLIAR_BINARY_DIR) + "/machines/z370-ubuntu' '" + root_ + "'");
    // The GT 1030's display function loses its group; the other 14 groups stay.
    auto dev = fsys::canonical(root_ + "/sys/bus/pci/devices/0000:01:00.0");
    fsys::remove(dev / "iommu_group");
  }
  void TearDown() override { fsys::remove_all(tmp_); }
  CommandResult sh(const std::string& cmd) {
    auto r = runner_.run({"sh", "-c", cmd}, {});
    EXPECT_TRUE(r);
    return *r;
  }
  CommandResult exliar(std::vector<std::string> args) {
    std::vector<std::string> argv = {EXLIAR_EXE, "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = runner_.run(argv, {});
    EXPECT_TRUE(r);
    return *r;
  }
  ProcessRunner runner_;
  std::string tmp_, root_;
};

TEST_F(GroupMissing, CheckBlocks) {
  auto r = exliar({"check", "--gpu", "0000:01:00.0", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("\"iommu-group-missing\""), std::string::npos) << r.out;
  auto text = exliar({"check", "--gpu", "0000:01:00.0"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("no IOMMU group although the IOMMU is active"), std::string::npos)
      << text.out;
}

TEST_F(GroupMissing, ApplyRefusesAndChangesNothing) {
  sh("cp -a '" + root_ + "' '" + tmp_ + "/before'");
  auto r = exliar({"apply", "--gpu", "0000:01:00.0", "--yes"});
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("has no IOMMU group although the IOMMU is active"), std::string::npos)
      << r.err;
  EXPECT_EQ(sh("diff -r --no-dereference '" + tmp_ + "/before' '" + root_ + "'; true").out, "");
}

}  // namespace
}  // namespace exliar
