// The VM hook's decisions and recorded steps on a copy of the fiji-proxmox fixture (SimFs
// plays the kernel's part for sysfs writes, a RecordingRunner stands in for systemctl,
// rmmod and modprobe): which VMs are managed, the refusals, the exact step list, the
// reverse undo after a failure at any step, and an idempotent release.
#include <gtest/gtest.h>

#include "dynamic/hook_run.h"
#include "dynamic/host_state.h"
#include "dynamic/session.h"
#include "dynamic/vm_config.h"
#include "probe/probe.h"
#include "unit/modules/modules_test_util.h"

namespace exliar::dynamic {
namespace {

using namespace modules_test;
using Argvs = std::vector<std::vector<std::string>>;

const std::string kDev = "/sys/bus/pci/devices/0000:09:00.0";

/// fiji-proxmox as a single-GPU desktop: amdgpu (a loaded module) drives the boot GPU,
/// fbcon draws on it, efifb is bound, sddm is the display manager and Xorg holds card0.
TempRoot desktop() {
  TempRoot t = TempRoot::copy_of("fiji-proxmox");
  for (const auto& e : sfs::directory_iterator(t.dir() + "/sys/bus/pci/devices"))
    std::ofstream(sfs::canonical(e.path()) / "driver_override") << "(null)\n";
  t.write("/sys/bus/pci/drivers_probe", "");
  for (auto d : {"vfio-pci", "amdgpu", "snd_hda_intel", "e1000e", "ahci"}) {
    t.write(std::string("/sys/bus/pci/drivers/") + d + "/bind", "");
    t.write(std::string("/sys/bus/pci/drivers/") + d + "/unbind", "");
  }
  t.write("/sys/module/amdgpu/initstate", "live\n");
  sfs::create_directories(t.dir() + "/sys/module/amdgpu/holders");
  t.symlink("../../../../module/amdgpu", "/sys/bus/pci/drivers/amdgpu/module");
  t.symlink("../../bus/pci/drivers/amdgpu", "/sys/module/amdgpu/drivers/pci:amdgpu");
  t.write(kDev + "/drm/card0/dev", "226:0\n");
  t.write(kDev + "/drm/renderD128/dev", "226:128\n");
  t.write(kDev + "/graphics/fb0/dev", "29:0\n");
  t.write("/sys/class/vtconsole/vtcon0/name", "(S) dummy device\n");
  t.write("/sys/class/vtconsole/vtcon0/bind", "0");
  t.write("/sys/class/vtconsole/vtcon1/name", "(M) frame buffer device\n");
  t.write("/sys/class/vtconsole/vtcon1/bind", "1");
  t.write("/sys/bus/platform/drivers/efi-framebuffer/bind", "");
  t.write("/sys/bus/platform/drivers/efi-framebuffer/unbind", "");
  t.write("/sys/bus/platform/devices/efi-framebuffer.0/modalias", "platform:efi-framebuffer\n");
  t.symlink("../../../devices/platform/efi-framebuffer.0",
            "/sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0");
  t.symlink("/usr/lib/systemd/system/sddm.service", "/etc/systemd/system/display-manager.service");
  t.write("/proc/812/comm", "Xorg\n");
  t.symlink("/dev/dri/card0", "/proc/812/fd/14");
  t.symlink("/dev/null", "/proc/812/fd/0");
  return t;
}

VmConfig config(bool single) {
  VmConfig c;
  c.name = "win11";
  c.gpu = *parse_pci_address("0000:09:00.0");
  c.functions = {c.gpu, *parse_pci_address("0000:09:00.1")};
  c.single_gpu = single;
  return c;
}

struct Env {
  TempRoot root = desktop();
  Result<RealFs> real = RealFs::open(root.dir());
  SimFs fs{*real};
  RecordingRunner runner;
  Context ctx{fs, runner, Output{}, "", true, true, ""};
  Env() { ctx.output.err = nullptr; }
  Argvs calls() const {
    Argvs out;
    for (const auto& c : runner.calls) out.push_back(c.argv);
    return out;
  }
};

/// The tree minus what exliar keeps for itself (journal, bind state, session) and the
/// platform drivers' write-only bind/unbind attributes (plain files here, so they keep the
/// last value written; the writes themselves are checked through SimFs::writes).
std::map<std::string, std::string> host_tree(const TempRoot& t) {
  auto s = snapshot(t.dir());
  for (auto it = s.begin(); it != s.end();) {
    const std::string& p = it->first;
    bool skip =
        p.rfind("/var/lib/exliar", 0) == 0 || (p.rfind("/sys/bus/platform/drivers/", 0) == 0 &&
                                               (p.ends_with("/bind") || p.ends_with("/unbind")));
    it = skip ? s.erase(it) : std::next(it);
  }
  return s;
}

HookOptions quick() {
  HookOptions o;
  o.holder_wait = std::chrono::milliseconds(0);
  return o;
}

TEST(HookCall, ClassifiesLibvirtAndProxmoxArguments) {
  EXPECT_EQ(classify_hook_call({"win11", "prepare", "begin", "-"}), HookAction::prepare);
  EXPECT_EQ(classify_hook_call({"win11", "release", "end", "-"}), HookAction::release);
  EXPECT_EQ(classify_hook_call({"100", "pre-start"}), HookAction::prepare);
  EXPECT_EQ(classify_hook_call({"100", "post-stop"}), HookAction::release);
  for (auto op : {"start", "started", "stopped", "reconnect", "migrate", "attach"})
    EXPECT_EQ(classify_hook_call({"win11", op, "begin", "-"}), HookAction::none) << op;
  EXPECT_EQ(classify_hook_call({"win11", "prepare", "end", "-"}), HookAction::none);
  EXPECT_EQ(classify_hook_call({"100", "post-start"}), HookAction::none);
  EXPECT_EQ(classify_hook_call({}), HookAction::none);
}

TEST(VmConfig, RoundTripsAndRejectsBadFilesNamingThem) {
  VmConfig c = config(true);
  c.display_manager = "gdm.service";
  c.unload_modules = {"snd_hda_codec_hdmi"};
  auto back = parse_vm_config(format_vm_config(c), "/etc/exliar/vms/win11.json");
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, c);
  auto bad = parse_vm_config("{\n  \"schema_version\": 1,\n  \"name\": \n}", "/x/win11.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().path, "/x/win11.json");
  EXPECT_EQ(bad.error().line, 4);
  std::string text = format_vm_config(c);
  auto mode = parse_vm_config(text.replace(text.find("single-gpu"), 10, "sometimes"), "/x");
  ASSERT_FALSE(mode);
  EXPECT_NE(mode.error().message.find("\"mode\""), std::string::npos);
  std::string dm = format_vm_config(c);
  dm.replace(dm.find("gdm.service"), 11, "--now x");
  EXPECT_FALSE(parse_vm_config(dm, "/x"));
  for (auto n : {"win11", "100", "a.b_c+d-e"}) EXPECT_TRUE(valid_vm_name(n)) << n;
  for (auto n : {"", ".hidden", "-x", "a/b", "../etc", "a b", std::string(65, 'a').c_str()})
    EXPECT_FALSE(valid_vm_name(n)) << n;
}

TEST(HostState, UnloadOrderPutsHoldersFirst) {
  TempRoot t;
  auto mod = [&](const std::string& m, std::vector<std::string> holders) {
    t.write("/sys/module/" + m + "/initstate", "live\n");
    sfs::create_directories(t.dir() + "/sys/module/" + m + "/holders");
    for (const auto& h : holders) t.symlink("../../" + h, "/sys/module/" + m + "/holders/" + h);
  };
  mod("nvidia", {"nvidia_modeset", "nvidia_uvm"});
  mod("nvidia_modeset", {"nvidia_drm"});
  mod("nvidia_uvm", {});
  mod("nvidia_drm", {});
  sfs::create_directories(t.dir() + "/sys/module/i915");  // built in: no initstate
  auto fs = RealFs::open(t.dir());
  EXPECT_EQ(unload_order(*fs, {"nvidia"}),
            (std::vector<std::string>{"nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia"}));
  EXPECT_TRUE(unload_order(*fs, {"i915"}).empty());
}

TEST(HostState, FindsTheProcessesHoldingTheGpu) {
  Env e;
  auto nodes = gpu_device_nodes(e.fs, config(true).functions);
  EXPECT_EQ(nodes, (std::vector<std::string>{"/dev/dri/card0", "/dev/dri/renderD128", "/dev/fb0"}));
  auto h = find_holders(e.fs, nodes);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0], (Holder{812, "Xorg", "/dev/dri/card0"}));
  auto dm = detect_display_manager(e.fs, "systemd", std::nullopt);
  ASSERT_TRUE(dm);
  EXPECT_EQ(dm->service, "display-manager.service");
  EXPECT_EQ(dm->label, "sddm.service");
}

TEST(Hook, PlansTheSingleGpuSteps) {
  Env e;
  auto steps = plan_prepare(e.fs, probe(e.fs), config(true));
  ASSERT_TRUE(steps) << steps.error().describe();
  std::vector<std::string> got;
  for (const auto& s : *steps) got.push_back(s.kind + " " + s.target + " " + s.detail);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "stop-service display-manager.service systemd",
                     "check-holders /dev/dri/card0 /dev/dri/renderD128 /dev/fb0 ",
                     "vtcon-unbind vtcon1 (M) frame buffer device",
                     "fb-unbind efi-framebuffer efi-framebuffer.0",
                     "unload-module amdgpu ",
                     "bind 4 ",
                 }));
}

TEST(Hook, SecondaryModeRefusesTheConsoleGpu) {
  Env e;
  auto before = host_tree(e.root);
  auto r = prepare_vm(e.ctx, config(false), quick());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--single-gpu"), std::string::npos) << r.error().message;
  EXPECT_TRUE(e.runner.calls.empty());
  EXPECT_EQ(host_tree(e.root), before);
}

TEST(Hook, RefusesWhileAProcessHoldsTheGpuAndRestartsTheDisplayManager) {
  Env e;
  auto before = host_tree(e.root);
  auto r = prepare_vm(e.ctx, config(true), quick());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Xorg (pid 812) holds /dev/dri/card0"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(e.calls(), (Argvs{{"systemctl", "is-active", "--quiet", "display-manager.service"},
                              {"systemctl", "stop", "display-manager.service"},
                              {"systemctl", "start", "display-manager.service"}}));
  EXPECT_FALSE(e.root.exists("/run/exliar/vm-win11.json"));
  EXPECT_EQ(host_tree(e.root), before);
}

TEST(Hook, PrepareThenReleaseIsTheExactReverseAndReleaseIsIdempotent) {
  Env e;
  sfs::remove_all(e.root.dir() + "/proc/812");  // Xorg ended with the display manager
  auto before = host_tree(e.root);
  auto r = prepare_vm(e.ctx, config(true), quick());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->session.state, "prepared");
  EXPECT_EQ(e.calls(), (Argvs{{"systemctl", "is-active", "--quiet", "display-manager.service"},
                              {"systemctl", "stop", "display-manager.service"},
                              {"rmmod", "amdgpu"}}));
  auto prepared_writes = e.fs.writes;
  ASSERT_GE(prepared_writes.size(), 2u);
  EXPECT_EQ(prepared_writes[0],
            (std::pair<std::string, std::string>{"/sys/class/vtconsole/vtcon1/bind", "0"}));
  EXPECT_EQ(prepared_writes[1],
            (std::pair<std::string, std::string>{"/sys/bus/platform/drivers/efi-framebuffer/unbind",
                                                 "efi-framebuffer.0"}));
  EXPECT_EQ(e.root.read("/sys/bus/pci/devices/0000:09:00.0/driver_override"), "vfio-pci\n");
  auto sessions = list_sessions(e.fs);
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].vm, "win11");

  e.runner.calls.clear();
  auto rel = release_vm(e.ctx, "win11", quick());
  ASSERT_TRUE(rel) << rel.error().describe();
  ASSERT_TRUE(*rel);
  EXPECT_EQ(e.calls(),
            (Argvs{{"modprobe", "amdgpu"}, {"systemctl", "start", "display-manager.service"}}));
  EXPECT_FALSE(e.root.exists("/run/exliar/vm-win11.json"));
  // /run/exliar stays (an empty directory); everything else is as before.
  EXPECT_EQ(host_tree(e.root), before);
  e.runner.calls.clear();
  auto again = release_vm(e.ctx, "win11", quick());
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_TRUE(e.runner.calls.empty());
  EXPECT_EQ(host_tree(e.root), before);
}

TEST(Hook, AFailingStepUndoesTheStepsBeforeItInReverse) {
  Env e;
  sfs::remove_all(e.root.dir() + "/proc/812");
  auto before = host_tree(e.root);
  // is-active ok, stop ok, rmmod fails (amdgpu in use).
  e.runner.answers = {CommandResult{0, false, "", ""}, CommandResult{0, false, "", ""},
                      CommandResult{1, false, "", "rmmod: ERROR: Module amdgpu is in use\n"}};
  auto r = prepare_vm(e.ctx, config(true), quick());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("step 5 of 6 (unload the module amdgpu)"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("in use"), std::string::npos);
  EXPECT_NE(r.error().message.find("undone"), std::string::npos);
  EXPECT_EQ(e.calls(), (Argvs{{"systemctl", "is-active", "--quiet", "display-manager.service"},
                              {"systemctl", "stop", "display-manager.service"},
                              {"rmmod", "amdgpu"},
                              {"systemctl", "start", "display-manager.service"}}));
  using W = std::pair<std::string, std::string>;
  EXPECT_EQ(
      e.fs.writes,
      (std::vector<W>{{"/sys/class/vtconsole/vtcon1/bind", "0"},
                      {"/sys/bus/platform/drivers/efi-framebuffer/unbind", "efi-framebuffer.0"},
                      {"/sys/bus/platform/drivers/efi-framebuffer/bind", "efi-framebuffer.0"},
                      {"/sys/class/vtconsole/vtcon1/bind", "1"}}));
  EXPECT_FALSE(e.root.exists("/run/exliar/vm-win11.json"));
  EXPECT_EQ(host_tree(e.root), before);
}

TEST(Hook, EverySysfsFailureLeavesTheHostAsItWas) {
  // The bind step's own writes are rolled back by the transaction engine; the hook's
  // earlier steps by the hook. Fail each write in turn.
  for (int n = 0; n < 12; ++n) {
    Env e;
    sfs::remove_all(e.root.dir() + "/proc/812");
    auto before = host_tree(e.root);
    e.fs.fail_at = n;
    auto r = prepare_vm(e.ctx, config(true), quick());
    if (r) {
      EXPECT_GE(n, 8) << "write " << n << " should have failed prepare";
      break;
    }
    EXPECT_EQ(host_tree(e.root), before) << "after a failure at write " << n;
    EXPECT_FALSE(e.root.exists("/run/exliar/vm-win11.json")) << n;
    EXPECT_EQ(e.runner.calls.back().argv,
              (std::vector<std::string>{"systemctl", "start", "display-manager.service"}))
        << n;
  }
}

}  // namespace
}  // namespace exliar::dynamic
