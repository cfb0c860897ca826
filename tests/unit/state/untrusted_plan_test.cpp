// `apply --from PLAN` reads untrusted input (issue 14 item 2): a step may only touch what its
// kind may touch, paths and modes are checked, numbers are range-checked, and the plan file
// must be as trustworthy as a plugin. Every refusal is exit 2 with the plan file named and
// an unchanged tree. Runs the real binary on a copy of the z370-ubuntu fixture machine.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "host/runner.h"
#include "unit/state/helpers.h"

namespace exliar::test {
namespace {

using nlohmann::json;

struct Run {
  int code = -1;
  std::string out, err;
};

Run exliar(const std::vector<std::string>& args) {
  ProcessRunner r;
  std::vector<std::string> argv{EXLIAR_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  auto res = r.run(argv, {});
  EXPECT_TRUE(res);
  return res ? Run{res->exit_code, res->out, res->err} : Run{};
}

class UntrustedPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/root";
    copy_tree(std::string(EXLIAR_BINARY_DIR) + "/machines/z370-ubuntu", root_);
    auto p = exliar({"--root", root_, "plan", "--gpu", "0000:01:00.0", "--json"});
    ASSERT_EQ(p.code, 0) << p.err;
    plan_ = json::parse(p.out);
    original_ = snapshot(root_, {});
  }
  std::string write_plan(const std::string& text, mode_t mode = 0600) {
    std::string f = tmp_.path() + "/plan.json";
    put(tmp_.path(), "plan.json", text, mode);
    ::chmod(f.c_str(), mode);
    return f;
  }
  /// apply --from a plan changed by `mutate`: refused, exit 2, naming the file and `why`.
  void expect_refused(const std::function<void(json&)>& mutate, const std::string& why) {
    json p = plan_;
    mutate(p);
    std::string f = write_plan(p.dump(2));
    auto r = exliar({"--root", root_, "apply", "--from", f, "--yes"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(tree_diff(original_, snapshot(root_, {})), "");
  }
  TempDir tmp_;
  std::string root_;
  json plan_;
  Tree original_;
};

json sysfs_step(const std::string& path, const std::string& value = "x\n") {
  return json{{"kind", "sysfs"},       {"path", path}, {"value", value}, {"undo_path", nullptr},
              {"undo_value", nullptr}, {"reason", ""}, {"source", ""}};
}

TEST_F(UntrustedPlan, TheUnchangedPlanIsAcceptedAndShowsModes) {
  std::string f = write_plan(plan_.dump(2));
  auto r = exliar({"--root", root_, "plan", "--from", f});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("create /etc/modprobe.d/exliar-vfio.conf (mode 0644)"), std::string::npos)
      << r.out;
}

TEST_F(UntrustedPlan, SysfsStepOutsidePciBindingAttributesIsRefused) {
  // The reported attack: a sysfs step truncates /etc/default/grub with no backup.
  expect_refused([](json& p) { p["steps"] = json::array({sysfs_step("/etc/default/grub")}); },
                 "a sysfs step may only write");
  expect_refused(
      [](json& p) {
        p["steps"] = json::array({sysfs_step("/sys/bus/pci/devices/0000:01:00.0/config")});
      },
      "a sysfs step may only write");
  expect_refused(
      [](json& p) {
        auto s = sysfs_step("/sys/bus/pci/devices/0000:01:00.0/driver_override");
        s["undo_path"] = "/etc/shadow";
        s["undo_value"] = "x";
        p["steps"] = json::array({s});
      },
      "/etc/shadow");
  expect_refused(
      [](json& p) {
        p["steps"] = json::array(
            {sysfs_step("/sys/bus/pci/devices/0000:01:00.0/../../../../etc/default/grub")});
      },
      "without NUL");
}

TEST_F(UntrustedPlan, EditOfAFileNoBackendOwnsIsRefused) {
  expect_refused([](json& p) { p["steps"][0]["path"] = "/etc/passwd"; },
                 "not a file any exliar backend edits");
  expect_refused([](json& p) { p["steps"][0]["path"] = "/etc/modprobe.d/sub/x.conf"; },
                 "not a file any exliar backend edits");
  expect_refused([](json& p) { p["steps"][0]["path"] = "/etc/modprobe.d/../shadow.conf"; },
                 "without NUL");
  expect_refused([](json& p) { p["steps"][0]["path"] = std::string("/etc/default/grub\0x", 19); },
                 "without NUL");
}

TEST_F(UntrustedPlan, UnusualModesAreRefused) {
  for (const char* m : {"4755", "2755", "1644", "0666", "0646"})
    expect_refused([&](json& p) { p["steps"][0]["mode"] = m; }, "is refused: no setuid");
}

TEST_F(UntrustedPlan, CommandsOtherThanTheRegenerationToolsAreRefused) {
  expect_refused(
      [](json& p) {
        p["steps"][4]["argv"] = {"/bin/sh", "-c", "id"};
      },
      "not one of the tools");
  expect_refused(
      [](json& p) {
        p["steps"][4]["undo_argv"] = {"rm", "-rf", "/"};
      },
      "not one of the tools");
  expect_refused(
      [](json& p) {
        p["steps"][5]["argv"] = {"grub-mkconfig", "-o", "/etc/shadow"};
      },
      "only a grub.cfg under /boot");
}

TEST_F(UntrustedPlan, OutOfRangeSchemaVersionIsRefused) {
  expect_refused([](json& p) { p["schema_version"] = 4294967297LL; },
                 "unsupported plan schema_version 4294967297");
  expect_refused([](json& p) { p["schema_version"] = -4294967295LL; }, "unsupported plan");
}

TEST_F(UntrustedPlan, PlanFileWritableByOthersOrOwnedBySomeoneElseIsRefused) {
  std::string f = write_plan(plan_.dump(2), 0666);
  auto r = exliar({"--root", root_, "apply", "--from", f, "--yes"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("writable by group or others"), std::string::npos) << r.err;
  ::chmod(f.c_str(), 0644);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(f.c_str(), 4242, 4242), 0);
    r = exliar({"--root", root_, "apply", "--from", f, "--yes"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("owned by uid 4242"), std::string::npos) << r.err;
    ASSERT_EQ(::chown(f.c_str(), 0, 0), 0);
    // A directory another user may write (without the sticky bit) could swap the plan.
    ::chmod(tmp_.path().c_str(), 0777);
    r = exliar({"--root", root_, "apply", "--from", f, "--yes"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("another user could replace the plan"), std::string::npos) << r.err;
    ::chmod(tmp_.path().c_str(), 0700);
  }
  EXPECT_EQ(tree_diff(original_, snapshot(root_, {})), "");
  // And the same plan, trustworthy, applies.
  r = exliar({"--root", root_, "apply", "--from", f, "--yes"});
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace exliar::test
