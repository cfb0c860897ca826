// The built exliar binary: `exliar test`'s refusals on fixture machines (they hold for a
// --root copy too, before any VFIO call), and `check` reading a stored measurement back.
// The measurement itself runs on a real kernel: tests/e2e/scenarios/vfio_test.sh.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "host/runner.h"

namespace exliar {
namespace {

namespace fs = std::filesystem;

CommandResult exliar(std::vector<std::string> args) {
  args.insert(args.begin(), EXLIAR_EXE);
  ProcessRunner r;
  RunOptions o;
  o.timeout = std::chrono::seconds(30);
  auto res = r.run(args, o);
  EXPECT_TRUE(res) << "exliar could not start";
  return res ? *res : CommandResult{};
}

std::string machine(const char* name) { return std::string(EXLIAR_BINARY_DIR "/machines/") + name; }

// A writable copy of a fixture machine, removed after the test.
struct Copy {
  std::string dir;
  explicit Copy(const char* name) {
    char tmpl[] = "/tmp/exliar-selftest-XXXXXX";
    dir = mkdtemp(tmpl);
    dir += "/root";
    std::string cmd = "cp -a '" + machine(name) + "' '" + dir + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  ~Copy() { fs::remove_all(fs::path(dir).parent_path()); }
  void write(const std::string& rel, const std::string& text) const {
    fs::create_directories(fs::path(dir + rel).parent_path());
    std::ofstream(dir + rel) << text;
  }
};

TEST(SelftestCli, RefusesWithoutAnIommu) {
  auto r = exliar({"--root", machine("pavilion-fedora-noiommu"), "test", "0000:01:00.0"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("the IOMMU is off"), std::string::npos) << r.err;
}

TEST(SelftestCli, RefusesASharedGroup) {
  // The USB controller 00:14.0 joins the GT 1030's group 2 (both links, as the kernel
  // keeps them).
  Copy c("z370-ubuntu");
  std::string usb = "/sys/devices/pci0000:00/0000:00:14.0";
  fs::remove(c.dir + usb + "/iommu_group");
  fs::create_symlink("../../../kernel/iommu_groups/2", c.dir + usb + "/iommu_group");
  fs::remove(c.dir + "/sys/kernel/iommu_groups/3/devices/0000:00:14.0");
  fs::create_symlink("../../../../devices/pci0000:00/0000:00:14.0",
                     c.dir + "/sys/kernel/iommu_groups/2/devices/0000:00:14.0");
  auto r = exliar({"--root", c.dir, "test", "01:00.0"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("is shared with 0000:00:14.0"), std::string::npos) << r.err;
}

TEST(SelftestCli, UsageErrors) {
  auto z = machine("z370-ubuntu");
  auto r = exliar({"--root", z, "test", "00:14.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a GPU"), std::string::npos) << r.err;
  r = exliar({"--root", z, "test", "banana"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a PCI address"), std::string::npos) << r.err;
  r = exliar({"--root", z, "test", "--resets", "0", "01:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--resets must be between 1 and 100"), std::string::npos) << r.err;
  r = exliar({"--root", z, "test", "0000:0f:1f.7"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no PCI device 0000:0f:1f.7"), std::string::npos) << r.err;
  // Every check passed: only the measurement needs the live kernel.
  r = exliar({"--root", z, "test", "01:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot measure under --root"), std::string::npos) << r.err;
}

const char* kRecord = R"({"schema_version": 1, "address": "0000:01:00.0",
  "measured_at": "2026-11-30T08:00:00Z", "verdict": "ok",
  "reset": {"kind": "function", "survives": %s, "ok": 3, "requested": 3}})";

std::string record(const char* survives) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kRecord, survives);
  return buf;
}

TEST(SelftestCli, CheckShowsTheMeasuredResetInsteadOfThePrediction) {
  Copy c("z370-ubuntu");
  auto before = exliar({"--root", c.dir, "check", "--gpu", "01:00.0"});
  EXPECT_EQ(before.out.find("reset-measured"), std::string::npos);
  c.write("/var/lib/exliar/tests/0000:01:00.0.json", record("true"));
  auto ok = exliar({"--root", c.dir, "check", "--gpu", "01:00.0"});
  EXPECT_NE(ok.out.find("[reset-measured] Reset measured OK on 2026-11-30"), std::string::npos)
      << ok.out;
  EXPECT_EQ(ok.out.find("[reset-unknown]"), std::string::npos) << ok.out;
  c.write("/var/lib/exliar/tests/0000:01:00.0.json", record("false"));
  auto bad = exliar({"--root", c.dir, "check", "--gpu", "01:00.0"});
  EXPECT_NE(bad.out.find("warning [reset-measured] exliar test measured on 2026-11-30 that this "
                         "GPU does not survive a reset"),
            std::string::npos)
      << bad.out;
}

TEST(SelftestCli, ACorruptRecordIsNamedAndIgnored) {
  Copy c("z370-ubuntu");
  c.write("/var/lib/exliar/tests/0000:01:00.0.json", "{\"schema_version\": 1, \"address\": 7}");
  auto r = exliar({"--root", c.dir, "check", "--gpu", "01:00.0"});
  EXPECT_NE(r.out.find("[test-record-invalid]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/var/lib/exliar/tests/0000:01:00.0.json"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[reset-measured]"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace exliar
