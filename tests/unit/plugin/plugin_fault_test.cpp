// Plugins and hook scripts that misbehave or come from a foreign root (issue 14 items 1,
// 5, 6, 19): exliar survives, says what happened, and fails closed where a veto was
// possible.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "plugin/host.h"

namespace exliar {
namespace {

namespace fsys = std::filesystem;
using namespace std::chrono_literals;

const PluginPolicy kTrusted{false, true, true};

class PluginFault : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-plugfault-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    ::chmod(root_.c_str(), 0755);
    dir("/usr/lib/exliar/plugins");
    for (const char* h : {"on_pre_vfio_bind", "on_post_vfio_bind", "on_cleanup"})
      dir(std::string("/etc/exliar/hooks.d/") + h);
  }
  void TearDown() override { fsys::remove_all(root_); }

  void dir(const std::string& p) {
    fsys::create_directories(root_ + p);
    for (std::string d = root_ + p; d.size() > root_.size(); d = fsys::path(d).parent_path())
      ::chmod(d.c_str(), 0755);
  }
  void install_plugin(const std::string& name) {
    std::string to = root_ + "/usr/lib/exliar/plugins/" + name + ".so";
    fsys::copy_file(std::string(PLUGIN_DIR) + "/" + name + ".so", to,
                    fsys::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
  }
  void script(const std::string& hook, const std::string& name, const std::string& body,
              int mode = 0755) {
    std::string p = root_ + "/etc/exliar/hooks.d/" + hook + "/" + name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    ::chmod(p.c_str(), static_cast<mode_t>(mode));
  }
  RealFs fs() { return std::move(*RealFs::open(root_)); }
  static Inventory inventory() {
    Inventory inv;
    PciDevice gpu;
    gpu.address = *parse_pci_address("0000:01:00.0");
    gpu.vendor_id = 0x10de;
    gpu.class_code = 0x030000;
    gpu.iommu_group = 2;
    inv.devices = {gpu};
    Gpu g;
    g.address = gpu.address;
    g.functions = {gpu.address};
    inv.gpus = {g};
    return inv;
  }
  static BindEvent event() {
    Inventory inv = inventory();
    return BindEvent{"tx-1", "boot", inv.devices, {inv.gpus[0].address}};
  }
  std::string root_;
};

// Item 1: code under a root that is not "/" is listed, never run, unless asked for.
TEST_F(PluginFault, ForeignRootCodeIsSkippedAndSaidSo) {
  install_plugin("crash_on_bind");
  script("on_pre_vfio_bind", "10-touch", "touch \"$EXLIAR_ROOT/ran\"; exit 1\n");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, PluginPolicy{});
  ASSERT_EQ(host.plugins().size(), 1u);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::skipped);
  EXPECT_NE(host.plugins()[0].reason.find("--run-root-plugins"), std::string::npos);
  ASSERT_EQ(host.scripts().size(), 1u);
  EXPECT_EQ(host.scripts()[0].status, LoadStatus::skipped);
  EXPECT_EQ(host.skipped_count(), 2u);
  EXPECT_NE(host.skipped_notice().find("1 plugin(s) and 1 hook script(s)"), std::string::npos)
      << host.skipped_notice();
  EXPECT_TRUE(host.on_pre_vfio_bind(event()));  // nothing ran: no crash, no veto
  EXPECT_FALSE(fsys::exists(root_ + "/ran"));
}

// Item 19: a segfault in a hook is a veto with a clear message, exliar lives on.
TEST_F(PluginFault, CrashInHookIsAVetoNotTheEnd) {
  install_plugin("crash_on_bind");
  install_plugin("annotate_veto");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  auto r = host.on_pre_vfio_bind(event());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("plugin crasher crashed: signal 11"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("vetoes the bind"), std::string::npos);
  // The others still work in a fresh process; the crasher is not called again.
  Inventory inv = inventory();
  host.on_device_detect(inv);
  EXPECT_EQ(inv.devices[0].annotations.at("annotate-veto.role"), "passthrough-candidate");
  EXPECT_TRUE(host.on_pre_vfio_bind(event()));
}

TEST_F(PluginFault, CrashWhileLoadingIsRecordedAndOthersLoad) {
  install_plugin("annotate_veto");
  install_plugin("crash_on_load");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.plugins().size(), 2u);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::loaded) << host.plugins()[0].reason;
  EXPECT_EQ(host.plugins()[1].status, LoadStatus::failed);
  EXPECT_NE(host.plugins()[1].reason.find("crashed: signal 11"), std::string::npos)
      << host.plugins()[1].reason;
  Inventory inv = inventory();
  host.on_device_detect(inv);
  EXPECT_EQ(inv.devices[0].annotations.count("annotate-veto.role"), 1u);
}

TEST_F(PluginFault, HangingHookIsKilledAfterTheTimeout) {
  install_plugin("misbehave");
  std::ofstream(root_ + "/etc/exliar/hang") << "";
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  host.plugin_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  host.on_post_vfio_bind(event());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  auto w = host.take_warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("did not answer within 0.3 s"), std::string::npos) << w[0];
}

// Item 6: an error buffer without terminator is read only within its bounds.
TEST_F(PluginFault, UnterminatedErrorBufferIsBounded) {
  install_plugin("misbehave");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  auto r = host.on_pre_vfio_bind(event());
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  size_t a = m.find('A');
  ASSERT_NE(a, std::string::npos) << m;
  EXPECT_EQ(m.substr(a), std::string(511, 'A'));
  // An unterminated over-long annotation key is refused, the valid one kept.
  Inventory inv = inventory();
  host.on_device_detect(inv);
  EXPECT_EQ(inv.devices[0].annotations.at("misbehave.ok"), "yes");
  EXPECT_EQ(inv.devices[0].annotations.size(), 1u);
  EXPECT_TRUE(host.take_warnings().empty());
}

// Item 5: a refused veto hook vetoes (fail closed) unless told otherwise, and warns.
TEST_F(PluginFault, RefusedVetoHookVetoesUnlessIgnored) {
  script("on_pre_vfio_bind", "10-guard", "exit 1\n", 0757);  // world-writable: refused
  script("on_post_vfio_bind", "10-log", "exit 0\n", 0757);
  auto f = fs();
  ProcessRunner runner;
  {
    PluginHost host(f, runner, kTrusted);
    auto r = host.on_pre_vfio_bind(event());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("10-guard of on_pre_vfio_bind was refused"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("--ignore-refused-hooks"), std::string::npos);
    host.on_post_vfio_bind(event());
    host.on_post_vfio_bind(event());
    auto w = host.take_warnings();
    ASSERT_EQ(w.size(), 1u);  // once per script, not once per event
    EXPECT_NE(w[0].find("10-log was not run: refused"), std::string::npos) << w[0];
  }
  PluginHost lax(f, runner, PluginPolicy{false, true, false});
  EXPECT_TRUE(lax.on_pre_vfio_bind(event()));
  auto w = lax.take_warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("10-guard was not run"), std::string::npos);
}

TEST_F(PluginFault, HugeHookOutputIsCutAndSaidSo) {
  script("on_pre_vfio_bind", "10-loud", "head -c 50000000 /dev/zero | tr '\\\\0' x >&2; exit 3\n");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  auto r = host.on_pre_vfio_bind(event());
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().message.size(), 4096u);
  EXPECT_NE(r.error().message.find("more bytes cut"), std::string::npos);
  auto log = host.take_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_LT(log[0].output.size(), 40000u);
  EXPECT_NE(log[0].output.find("more bytes of output were cut"), std::string::npos);
}

TEST_F(PluginFault, HookThatBackgroundsAChildIsNotATimeout) {
  script("on_pre_vfio_bind", "10-bg", "sleep 8 >/dev/null 2>&1 &\nsleep 8 &\nexit 0\n");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  host.script_timeout = 5s;
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(host.on_pre_vfio_bind(event()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace exliar
