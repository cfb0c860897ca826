// Runtime bind/unbind on copies of fixture sysfs trees (plain files; SimFs plays the
// kernel): the exact sequence of sysfs writes, the restore after an injected failure at
// every write, and the refusals.
#include "modules/bind.h"

#include <gtest/gtest.h>

#include "modules/bind_safety.h"
#include "modules_test_util.h"
#include "probe/probe.h"

namespace exliar {
namespace {

using namespace modules_test;
using Writes = std::vector<std::pair<std::string, std::string>>;

const std::string kGpu = "/sys/devices/pci0000:00/0000:00:1d.0/0000:09:00.0";

/// fiji-proxmox with what a real kernel has and the fixture lacks: driver_override on
/// every device, drivers_probe, a loaded vfio-pci.
TempRoot proxmox() {
  TempRoot t = TempRoot::copy_of("fiji-proxmox");
  for (const auto& e : sfs::directory_iterator(t.dir() + "/sys/bus/pci/devices")) {
    auto real = sfs::canonical(e.path());
    std::ofstream(real / "driver_override") << "(null)\n";
  }
  t.write("/sys/bus/pci/drivers_probe", "");
  sfs::create_directories(t.dir() + "/sys/bus/pci/drivers/vfio-pci");
  t.write("/sys/bus/pci/drivers/vfio-pci/bind", "");
  t.write("/sys/bus/pci/drivers/vfio-pci/unbind", "");
  for (auto d : {"amdgpu", "snd_hda_intel", "e1000e", "ahci"}) {
    t.write(std::string("/sys/bus/pci/drivers/") + d + "/bind", "");
    t.write(std::string("/sys/bus/pci/drivers/") + d + "/unbind", "");
  }
  return t;
}

const Writes kBindWrites = {
    {"/sys/bus/pci/drivers/amdgpu/unbind", "0000:09:00.0"},
    {"/sys/bus/pci/devices/0000:09:00.0/driver_override", "vfio-pci"},
    {"/sys/bus/pci/drivers_probe", "0000:09:00.0"},
    {"/sys/bus/pci/drivers/snd_hda_intel/unbind", "0000:09:00.1"},
    {"/sys/bus/pci/devices/0000:09:00.1/driver_override", "vfio-pci"},
    {"/sys/bus/pci/drivers_probe", "0000:09:00.1"},
};

TEST(Bind, MovesTheWholeGroupAndUnbindRestores) {
  TempRoot t = proxmox();
  auto real = RealFs::open(t.dir());
  SimFs fs(*real);
  auto original = snapshot(t.dir());
  Inventory inv = probe(fs);
  auto b = plan_bind(fs, inv, "09:00.1", false);  // naming the audio function moves the group
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_TRUE(b->refusals.empty());
  ASSERT_EQ(b->plan.steps.size(), 7u);  // state file + 3 writes per device
  auto* state = std::get_if<EditFile>(&b->plan.steps[0].action);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->path, "/var/lib/exliar/bind/group-4");
  EXPECT_EQ(*state->after,
            "# Written by `exliar bind`: address, driver before, driver_override before.\n"
            "0000:09:00.0 amdgpu -\n0000:09:00.1 snd_hda_intel -\n");
  MiniTx tx;
  ASSERT_TRUE(tx.run(fs, b->plan.steps));
  EXPECT_EQ(fs.writes, kBindWrites);
  EXPECT_TRUE(check_drivers(fs, b->expect).empty());
  EXPECT_EQ(b->expect.size(), 2u);

  fs.writes.clear();
  Inventory now = probe(fs);
  auto u = plan_unbind(fs, now, "0000:09:00.0");
  ASSERT_TRUE(u) << u.error().describe();
  ASSERT_TRUE(tx.run(fs, u->plan.steps));
  EXPECT_EQ(fs.writes, (Writes{
                           {"/sys/bus/pci/drivers/vfio-pci/unbind", "0000:09:00.0"},
                           {"/sys/bus/pci/devices/0000:09:00.0/driver_override", "\n"},
                           {"/sys/bus/pci/drivers/amdgpu/bind", "0000:09:00.0"},
                           {"/sys/bus/pci/drivers/vfio-pci/unbind", "0000:09:00.1"},
                           {"/sys/bus/pci/devices/0000:09:00.1/driver_override", "\n"},
                           {"/sys/bus/pci/drivers/snd_hda_intel/bind", "0000:09:00.1"},
                       }));
  EXPECT_TRUE(check_drivers(fs, u->expect).empty());
  // Drivers, overrides and links are as before; the state directory stays (empty).
  auto after = snapshot(t.dir());
  EXPECT_EQ(after, original);
}

TEST(Bind, FailureAtEveryWriteRestoresEveryDriver) {
  for (int n = 0; n < static_cast<int>(kBindWrites.size()); ++n) {
    SCOPED_TRACE("failure at write " + std::to_string(n));
    TempRoot t = proxmox();
    auto real = RealFs::open(t.dir());
    SimFs fs(*real);
    auto original = snapshot(t.dir());
    auto b = plan_bind(fs, probe(fs), "0000:09:00.0", false);
    ASSERT_TRUE(b);
    fs.fail_at = n;
    MiniTx tx;
    ASSERT_FALSE(tx.run(fs, b->plan.steps));
    EXPECT_EQ(snapshot(t.dir()), original);
    if (n == 4) {
      // The override of the audio function fails: everything done is undone in reverse.
      EXPECT_EQ(fs.writes, (Writes{
                               kBindWrites[0],
                               kBindWrites[1],
                               kBindWrites[2],
                               kBindWrites[3],
                               kBindWrites[4],
                               {"/sys/bus/pci/drivers/snd_hda_intel/bind", "0000:09:00.1"},
                               {"/sys/bus/pci/drivers/vfio-pci/unbind", "0000:09:00.0"},
                               {"/sys/bus/pci/devices/0000:09:00.0/driver_override", "\n"},
                               {"/sys/bus/pci/drivers/amdgpu/bind", "0000:09:00.0"},
                           }));
    }
  }
}

TEST(Bind, LoadsVfioPciWhenMissingAndSkipsDevicesAlreadyOnIt) {
  TempRoot t = proxmox();
  sfs::remove_all(t.dir() + "/sys/bus/pci/drivers/vfio-pci");
  auto fs = RealFs::open(t.dir());
  auto b = plan_bind(*fs, probe(*fs), "0000:09:00.0", false);
  ASSERT_TRUE(b);
  auto* cmd = std::get_if<RunCommand>(&b->plan.steps[1].action);
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->argv, (std::vector<std::string>{"modprobe", "vfio-pci"}));
}

TEST(Bind, AlreadyOnVfioPciIsANoOp) {
  TempRoot t = TempRoot::copy_of("z690-arch");  // RX 560 group 23 is on vfio-pci already
  for (const auto& e : sfs::directory_iterator(t.dir() + "/sys/bus/pci/devices"))
    std::ofstream(sfs::canonical(e.path()) / "driver_override") << "(null)\n";
  auto fs = RealFs::open(t.dir());
  auto b = plan_bind(*fs, probe(*fs), "0000:04:00.0", false);
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_TRUE(b->plan.steps.empty());
}

TEST(BindSafety, RefusesBootGpuWithConsoleUnlessForced) {
  TempRoot t = proxmox();
  t.write("/sys/class/vtconsole/vtcon0/name", "(S) dummy device\n");
  t.write("/sys/class/vtconsole/vtcon0/bind", "0\n");
  t.write("/sys/class/vtconsole/vtcon1/name", "(M) frame buffer device\n");
  t.write("/sys/class/vtconsole/vtcon1/bind", "1\n");
  auto fs = RealFs::open(t.dir());
  auto inv = probe(*fs);
  auto refused = plan_bind(*fs, inv, "0000:09:00.0", false);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("boot GPU"), std::string::npos);
  auto forced = plan_bind(*fs, inv, "0000:09:00.0", true);
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->refusals.size(), 1u);
  EXPECT_EQ(forced->plan.warnings.size(), 1u);
}

TEST(BindSafety, RefusesDefaultRouteNicAndMountedDisk) {
  TempRoot t = proxmox();
  t.write("/proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "eno1\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
          "eno1\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n");
  t.symlink("../../devices/pci0000:00/0000:00:1f.6/net/eno1", "/sys/class/net/eno1");
  sfs::create_directories(t.dir() + "/sys/devices/pci0000:00/0000:00:1f.6/net/eno1");
  t.symlink("../../../0000:00:1f.6", "/sys/devices/pci0000:00/0000:00:1f.6/net/eno1/device");
  std::string disk =
      "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda";
  sfs::create_directories(t.dir() + disk + "/sda2/holders");
  sfs::create_directories(t.dir() + disk + "/holders");
  t.symlink("../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda",
            "/sys/block/sda");
  t.write("/proc/mounts", "/dev/sda2 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n");
  auto fs = RealFs::open(t.dir());
  auto inv = probe(*fs);
  auto nic = plan_bind(*fs, inv, "0000:00:1f.6", false);
  ASSERT_FALSE(nic);
  EXPECT_NE(nic.error().message.find("network device eno1 of the default route"),
            std::string::npos);
  auto sata = plan_bind(*fs, inv, "0000:00:17.0", false);
  ASSERT_FALSE(sata);
  EXPECT_NE(sata.error().message.find("/dev/sda2 is mounted"), std::string::npos);
  EXPECT_EQ(
      parse_default_route_ifaces("Iface\tDestination\nlo\t00000000\t0\t0\t0\t0\t0\t00000000\n"),
      (std::vector<std::string>{"lo"}));
  EXPECT_TRUE(parse_mount_sources("/dev/disk\\040one / ext4 rw 0 0\n").count("/dev/disk one"));
}

TEST(BindState, RoundTrips) {
  std::vector<SavedBinding> s = {
      {*parse_pci_address("0000:01:00.0"), "nouveau", std::nullopt},
      {*parse_pci_address("0000:01:00.1"), std::nullopt, "snd_hda_intel"}};
  auto back = parse_bind_state(format_bind_state(s), "f");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
}

}  // namespace
}  // namespace exliar
