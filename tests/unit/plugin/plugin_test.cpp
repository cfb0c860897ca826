// Plugins and hook scripts on temp roots: real shared objects, real scripts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "plugin/host.h"

namespace exliar {
namespace {

namespace fsys = std::filesystem;

// The temp roots are not "/": these tests opt in to running the root's code.
const PluginPolicy kTrusted{false, true, true};

class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-plugin-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    ::chmod(root_.c_str(), 0755);
    dir("/usr/lib/exliar/plugins");
    dir("/etc/exliar/hooks.d/on_pre_vfio_bind");
    dir("/etc/exliar/hooks.d/on_post_vfio_bind");
  }
  void TearDown() override { fsys::remove_all(root_); }

  void dir(const std::string& p) {
    fsys::create_directories(root_ + p);
    for (std::string d = root_ + p; d.size() > root_.size(); d = fsys::path(d).parent_path())
      ::chmod(d.c_str(), 0755);
  }
  void install_plugin(const std::string& name,
                      const std::string& into = "/usr/lib/exliar/plugins") {
    std::string to = root_ + into + "/" + name + ".so";
    fsys::copy_file(std::string(PLUGIN_DIR) + "/" + name + ".so", to,
                    fsys::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
  }
  void script(const std::string& hook, const std::string& name, const std::string& body) {
    std::string p = root_ + "/etc/exliar/hooks.d/" + hook + "/" + name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    ::chmod(p.c_str(), 0755);
  }
  RealFs fs() { return std::move(*RealFs::open(root_)); }

  static Inventory inventory() {
    Inventory inv;
    PciDevice gpu;
    gpu.address = *parse_pci_address("0000:01:00.0");
    gpu.vendor_id = 0x10de;
    gpu.device_id = 0x1d01;
    gpu.class_code = 0x030000;
    gpu.driver = "nouveau";
    gpu.iommu_group = 2;
    PciDevice audio = gpu;
    audio.address = *parse_pci_address("0000:01:00.1");
    audio.class_code = 0x040300;
    audio.driver = "snd_hda_intel";
    inv.devices = {gpu, audio};
    Gpu g;
    g.address = gpu.address;
    g.functions = {gpu.address, audio.address};
    inv.gpus = {g};
    return inv;
  }
  static BindEvent event(const Inventory& inv) {
    return BindEvent{"tx-1", "runtime", inv.devices, {inv.gpus[0].address}};
  }

  std::string root_;
};

TEST_F(PluginTest, ExamplePluginLoadsAnnotatesAndVetoes) {
  install_plugin("annotate_veto");
  std::ofstream(root_ + "/etc/exliar/veto-address") << "0000:01:00.1\n";
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.plugins().size(), 1u);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::loaded) << host.plugins()[0].reason;
  EXPECT_EQ(host.plugins()[0].name, "annotate-veto");
  EXPECT_EQ(host.plugins()[0].abi, 1u);
  host.on_init();
  Inventory inv = inventory();
  host.on_device_detect(inv);
  EXPECT_EQ(inv.devices[0].annotations.at("annotate-veto.role"), "passthrough-candidate");
  EXPECT_TRUE(inv.devices[1].annotations.empty());  // not a GPU display function
  auto veto = host.on_pre_vfio_bind(event(inv));
  ASSERT_FALSE(veto);
  EXPECT_NE(veto.error().message.find("0000:01:00.1 is reserved for the host"), std::string::npos)
      << veto.error().message;
  EXPECT_NE(veto.error().message.find("annotate-veto"), std::string::npos);
}

TEST_F(PluginTest, NoVetoWhenAddressNotListed) {
  install_plugin("annotate_veto");
  std::ofstream(root_ + "/etc/exliar/veto-address") << "0000:01:00.10\n";  // prefix only
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  host.on_init();
  EXPECT_TRUE(host.on_pre_vfio_bind(event(inventory())));
}

TEST_F(PluginTest, AbiMismatchIsRefusedBeforeAnyCall) {
  install_plugin("bad_abi");  // its on_init would crash if called
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.plugins().size(), 1u);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::refused);
  EXPECT_NE(host.plugins()[0].reason.find("ABI version 99"), std::string::npos);
  host.on_init();  // must not call the refused plugin
}

TEST_F(PluginTest, MissingEntryPointKeepsDlerror) {
  install_plugin("no_symbol");
  std::ofstream(root_ + "/usr/lib/exliar/plugins/garbage.so") << "not an ELF file";
  ::chmod((root_ + "/usr/lib/exliar/plugins/garbage.so").c_str(), 0755);
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.plugins().size(), 2u);
  for (const auto& p : host.plugins()) {
    EXPECT_EQ(p.status, LoadStatus::failed) << p.path;
    EXPECT_FALSE(p.reason.empty());
  }
  // dlerror() text is kept: it names the file and the loader's reason.
  EXPECT_NE(host.plugins()[0].reason.find("garbage.so"), std::string::npos)
      << host.plugins()[0].reason;
  EXPECT_NE(host.plugins()[1].reason.find("exliar_plugin_v1"), std::string::npos)
      << host.plugins()[1].reason;
}

TEST_F(PluginTest, WorldWritableFileOrDirectoryIsRefused) {
  install_plugin("annotate_veto");
  ::chmod((root_ + "/usr/lib/exliar/plugins/annotate_veto.so").c_str(), 0777);
  {
    auto f = fs();
    ProcessRunner runner;
    PluginHost host(f, runner, kTrusted);
    ASSERT_EQ(host.plugins().size(), 1u);
    EXPECT_EQ(host.plugins()[0].status, LoadStatus::refused);
    EXPECT_NE(host.plugins()[0].reason.find("writable by group or others"), std::string::npos);
  }
  ::chmod((root_ + "/usr/lib/exliar/plugins/annotate_veto.so").c_str(), 0755);
  ::chmod((root_ + "/usr/lib/exliar").c_str(), 0775);
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::refused);
  EXPECT_NE(host.plugins()[0].reason.find("mode 0775"), std::string::npos);
}

TEST_F(PluginTest, NotOwnedByRootIsRefused) {
  install_plugin("annotate_veto");
  ASSERT_EQ(::chown((root_ + "/usr/lib/exliar/plugins/annotate_veto.so").c_str(), 1000, 1000), 0);
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::refused);
  EXPECT_NE(host.plugins()[0].reason.find("uid 1000"), std::string::npos);
}

TEST_F(PluginTest, SymlinkIntoUserWritableDirectoryIsRefused) {
  dir("/home/user");
  ::chmod((root_ + "/home/user").c_str(), 0777);
  fsys::copy_file(std::string(PLUGIN_DIR) + "/annotate_veto.so", root_ + "/home/user/evil.so");
  fsys::create_symlink("../../../../home/user/evil.so", root_ + "/usr/lib/exliar/plugins/evil.so");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.plugins().size(), 1u);
  EXPECT_EQ(host.plugins()[0].status, LoadStatus::refused);
  EXPECT_NE(host.plugins()[0].reason.find("writable by group or others"), std::string::npos);
}

TEST_F(PluginTest, NoPluginsDisablesEverything) {
  install_plugin("annotate_veto");
  script("on_pre_vfio_bind", "10-veto", "exit 1\n");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, PluginPolicy{true});
  EXPECT_TRUE(host.plugins().empty());
  EXPECT_TRUE(host.scripts().empty());
  EXPECT_TRUE(host.on_pre_vfio_bind(event(inventory())));
}

TEST_F(PluginTest, HookScriptsGetJsonAndEventAndCanVeto) {
  script(
      "on_pre_vfio_bind", "10-record",
      "cat > \"$EXLIAR_ROOT/event.json\"\necho \"$EXLIAR_EVENT\" > \"$EXLIAR_ROOT/event.name\"\n");
  script("on_pre_vfio_bind", "20-veto", "echo 'the VM host is in maintenance' >&2\nexit 7\n");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.scripts().size(), 2u);
  auto r = host.on_pre_vfio_bind(event(inventory()));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exited with 7: the VM host is in maintenance"),
            std::string::npos)
      << r.error().message;
  std::ifstream in(root_ + "/event.json");
  std::string json((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(json.find("\"event\":\"on_pre_vfio_bind\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"transaction_id\":\"tx-1\""), std::string::npos);
  EXPECT_NE(json.find("\"address\":\"0000:01:00.1\""), std::string::npos);
  EXPECT_NE(json.find("\"driver\":\"snd_hda_intel\""), std::string::npos);
  std::ifstream name(root_ + "/event.name");
  std::string n;
  name >> n;
  EXPECT_EQ(n, "on_pre_vfio_bind");
  auto log = host.take_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].rc, 7);
}

TEST_F(PluginTest, HookScriptTimeoutIsEnforced) {
  script("on_post_vfio_bind", "slow", "sleep 5\n");
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  host.script_timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  host.on_post_vfio_bind(event(inventory()));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(3));
  auto w = host.take_warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("timed out"), std::string::npos) << w[0];
}

TEST_F(PluginTest, NonExecutableOrWritableScriptsAreRefused) {
  script("on_pre_vfio_bind", "a-not-exec", "exit 1\n");
  ::chmod((root_ + "/etc/exliar/hooks.d/on_pre_vfio_bind/a-not-exec").c_str(), 0644);
  script("on_pre_vfio_bind", "b-writable", "exit 1\n");
  ::chmod((root_ + "/etc/exliar/hooks.d/on_pre_vfio_bind/b-writable").c_str(), 0757);
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  ASSERT_EQ(host.scripts().size(), 2u);
  EXPECT_EQ(host.scripts()[0].status, LoadStatus::refused);
  EXPECT_NE(host.scripts()[0].reason.find("not an executable"), std::string::npos);
  EXPECT_EQ(host.scripts()[1].status, LoadStatus::refused);
  // Refused scripts never run; a refused veto hook vetoes (plugin_fault_test covers it).
  EXPECT_FALSE(host.on_pre_vfio_bind(event(inventory())));
  PluginHost lax(f, runner, PluginPolicy{false, true, false});
  EXPECT_TRUE(lax.on_pre_vfio_bind(event(inventory())));
}

TEST_F(PluginTest, ExampleHookScriptLogsEvents) {
  std::string to = root_ + "/etc/exliar/hooks.d/on_post_vfio_bind/50-log";
  fsys::copy_file(HOOK_EXAMPLE, to);
  ::chmod(to.c_str(), 0755);
  auto f = fs();
  ProcessRunner runner;
  PluginHost host(f, runner, kTrusted);
  host.on_post_vfio_bind(event(inventory()));
  EXPECT_TRUE(host.take_warnings().empty());
  std::ifstream in(root_ + "/var/log/exliar-hooks.log");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("on_post_vfio_bind {\"event\":\"on_post_vfio_bind\"", 0), 0u) << line;
}

TEST(Trust, EscapingSymlinkIsRefused) {
  char tmpl[] = "/tmp/exliar-trust-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  ::chmod(root.c_str(), 0755);
  fsys::create_directories(root + "/usr/lib/exliar/plugins");
  fsys::create_symlink("/etc/passwd", root + "/usr/lib/exliar/plugins/abs.so");
  auto fs = RealFs::open(root);
  auto r = trusted_path(*fs, "/usr/lib/exliar/plugins/abs.so");
  EXPECT_FALSE(r);
  fsys::remove_all(root);
}

}  // namespace
}  // namespace exliar
