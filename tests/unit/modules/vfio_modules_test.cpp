// The modules stage on fixture machines and small temp roots: module sets per installed
// kernel, modprobe.d content, the initramfs backend chosen, one regeneration per system.
#include "modules/vfio_modules.h"

#include <gtest/gtest.h>

#include "modules/early_bind.h"
#include "modules/kernel_modules.h"
#include "modules_test_util.h"
#include "probe/probe.h"

namespace exliar {
namespace {

using namespace modules_test;

PciAddress addr(const char* s) { return *parse_pci_address(s); }

struct Machine {
  TempRoot root;
  RealFs fs;
  Inventory inv;
  static Machine of(const std::string& name) {
    TempRoot t = TempRoot::copy_of(name);
    auto fs = RealFs::open(t.dir());
    if (!fs) throw std::runtime_error(fs.error().describe());
    Inventory inv = probe(*fs);
    return Machine{std::move(t), std::move(*fs), std::move(inv)};
  }
};

TEST(KernelModules, ParsesIndexFilesAndVersions) {
  EXPECT_EQ(module_name_from_path("kernel/drivers/vfio/pci/vfio-pci.ko.zst"), "vfio_pci");
  EXPECT_EQ(parse_modules_dep("kernel/drivers/vfio/vfio.ko: \nkernel/x/vfio_virqfd.ko.xz: "
                              "kernel/drivers/vfio/vfio.ko\n"),
            (std::set<std::string>{"vfio", "vfio_virqfd"}));
  EXPECT_EQ(parse_kernel_version("6.1.0-13-amd64"), std::make_pair(6, 1));
  EXPECT_EQ(parse_kernel_version("5.15.143-1-pve"), std::make_pair(5, 15));
  EXPECT_FALSE(parse_kernel_version("extramodules-6.6"));
  EXPECT_EQ(parse_config_vfio_pci_vga("CONFIG_VFIO=m\nCONFIG_VFIO_PCI_VGA=y\n"), true);
  EXPECT_EQ(parse_config_vfio_pci_vga("# CONFIG_VFIO_PCI_VGA is not set\n"), false);
  EXPECT_EQ(parse_config_vfio_pci_vga(""), std::nullopt);
}

TEST(KernelModules, FixtureProxmoxHasOneKernelBeforeAndOneAfter62) {
  auto m = Machine::of("fiji-proxmox");
  auto ks = scan_kernel_modules(m.fs);
  ASSERT_TRUE(ks);
  ASSERT_EQ(ks->size(), 2u);
  EXPECT_EQ((*ks)[0].version, "5.15.143-1-pve");
  EXPECT_EQ((*ks)[0].state("vfio_virqfd"), ModuleState::module);
  EXPECT_EQ((*ks)[0].state("vfio_pci_core"), ModuleState::absent);
  EXPECT_EQ((*ks)[1].version, "6.8.12-4-pve");
  EXPECT_EQ((*ks)[1].state("vfio_virqfd"), ModuleState::absent);
  EXPECT_EQ((*ks)[1].state("vfio_pci_core"), ModuleState::module);
  EXPECT_FALSE((*ks)[1].vfio_pci_builtin());
}

TEST(KernelModules, FixtureDebianHasVfioBuiltIn) {
  auto m = Machine::of("mx150-debian");
  auto ks = scan_kernel_modules(m.fs);
  ASSERT_TRUE(ks);
  ASSERT_EQ(ks->size(), 1u);
  EXPECT_TRUE((*ks)[0].vfio_pci_builtin());
  EXPECT_EQ((*ks)[0].state("vfio"), ModuleState::builtin);
}

TEST(KernelModules, WithoutIndexTheVersionDecides) {
  TempRoot t;
  t.write("/lib/modules/5.10.0-28-amd64/kernel/placeholder", "");
  t.write("/lib/modules/6.6.0/kernel/placeholder", "");
  auto fs = RealFs::open(t.dir());
  auto ks = scan_kernel_modules(*fs);
  ASSERT_TRUE(ks);
  ASSERT_EQ(ks->size(), 2u);
  EXPECT_FALSE((*ks)[0].have_index);
  EXPECT_EQ((*ks)[0].state("vfio_virqfd"), ModuleState::module);
  EXPECT_EQ((*ks)[0].state("vfio_pci_core"), ModuleState::absent);
  EXPECT_EQ((*ks)[1].state("vfio_virqfd"), ModuleState::absent);
  EXPECT_EQ((*ks)[1].state("vendor_reset"), ModuleState::absent);
}

TEST(VfioModules, ProxmoxTwoKernelsIdsMode) {
  auto m = Machine::of("fiji-proxmox");
  VfioRequest req;
  req.ids = {"1002:7300", "1002:aae8"};
  req.addresses = {addr("0000:09:00.0"), addr("0000:09:00.1")};
  req.native_drivers = {"amdgpu", "snd_hda_intel"};
  req.disable_vga = true;
  auto p = plan_vfio_modules(m.fs, m.inv, req);
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(p->early_modules, (std::vector<std::string>{"vfio_pci", "vfio", "vfio_iommu_type1"}));
  EXPECT_TRUE(p->kernel_params.empty());
  auto* mp = edit_of(p->steps, "/etc/modprobe.d/exliar-vfio.conf");
  ASSERT_TRUE(mp);
  EXPECT_FALSE(mp->before);
  EXPECT_EQ(*mp->after,
            "# Written by exliar; `exliar rollback` removes it.\n"
            "# vfio-pci must own the passed-through devices before their native drivers load.\n"
            "options vfio-pci ids=1002:7300,1002:aae8 disable_vga=1\n"
            "softdep amdgpu pre: vfio-pci\n"
            "softdep snd_hda_intel pre: vfio-pci\n");
  auto* im = edit_of(p->steps, "/etc/initramfs-tools/modules");
  ASSERT_TRUE(im);
  EXPECT_EQ(im->after->substr(im->before->size()), "vfio_pci\nvfio\nvfio_iommu_type1\n");
  EXPECT_EQ(commands(p->steps),
            (std::vector<std::vector<std::string>>{{"update-initramfs", "-u", "-k", "all"}}));
  // The user's own /etc/modprobe.d/vfio.conf sets other ids: a warning, never an edit.
  EXPECT_FALSE(edit_of(p->steps, "/etc/modprobe.d/vfio.conf"));
  bool warned = std::any_of(p->warnings.begin(), p->warnings.end(), [](const std::string& w) {
    return w.find("/etc/modprobe.d/vfio.conf:1:") != std::string::npos;
  });
  EXPECT_TRUE(warned);
  // No hook without address binding.
  EXPECT_FALSE(edit_of(p->steps, "/etc/initramfs-tools/hooks/exliar-vfio"));
}

TEST(VfioModules, BuiltInVfioPciNeedsTheKernelCommandLine) {
  auto m = Machine::of("mx150-debian");
  VfioRequest req;
  req.ids = {"10de:1d10"};
  req.addresses = {addr("0000:02:00.0")};
  req.native_drivers = {"nvidia"};
  req.disable_vga = true;  // a 3D controller (0302): disable_vga does not apply
  auto p = plan_vfio_modules(m.fs, m.inv, req);
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(p->builtin_vfio_pci_kernels, (std::vector<std::string>{"6.1.76-vfio"}));
  EXPECT_EQ(p->kernel_params, (std::vector<std::string>{"vfio-pci.ids=10de:1d10"}));
  EXPECT_TRUE(p->early_modules.empty());
  auto* mp = edit_of(p->steps, "/etc/modprobe.d/exliar-vfio.conf");
  ASSERT_TRUE(mp);
  EXPECT_EQ(mp->after->find("disable_vga"), std::string::npos);
  EXPECT_EQ(commands(p->steps).size(), 1u);
}

TEST(VfioModules, ThreeKernelsOldNewAndBuiltIn) {
  TempRoot t;
  t.write("/lib/modules/5.10.0-28-amd64/modules.dep",
          "kernel/drivers/vfio/vfio.ko:\nkernel/drivers/vfio/vfio_virqfd.ko:\nkernel/drivers/vfio/"
          "pci/vfio-pci.ko:\n"
          "kernel/drivers/vfio/vfio_iommu_type1.ko:\n");
  t.write(
      "/lib/modules/6.8.0-45-generic/modules.dep",
      "kernel/drivers/vfio/vfio.ko.zst:\nkernel/drivers/vfio/pci/vfio-pci-core.ko.zst:\n"
      "kernel/drivers/vfio/pci/vfio-pci.ko.zst:\nkernel/drivers/vfio/vfio_iommu_type1.ko.zst:\n");
  t.write("/lib/modules/6.1.0-vfio/modules.dep", "");
  t.write("/lib/modules/6.1.0-vfio/modules.builtin",
          "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\nkernel/drivers/vfio/"
          "vfio_iommu_type1.ko\n");
  t.write("/etc/dracut.conf.d/vfio.conf", "add_drivers+=\" vfio_pci vfio_virqfd \"\n");
  t.write("/usr/bin/dracut", "");
  auto fs = RealFs::open(t.dir());
  Inventory inv;
  inv.system.initramfs = Initramfs::dracut;
  VfioRequest req;
  req.ids = {"10de:2204"};
  auto p = plan_vfio_modules(*fs, inv, req);
  ASSERT_TRUE(p) << p.error().describe();
  ASSERT_EQ(p->kernels.size(), 3u);
  EXPECT_EQ(p->early_modules, (std::vector<std::string>{"vfio_pci", "vfio", "vfio_iommu_type1"}));
  EXPECT_EQ(p->kernel_params, (std::vector<std::string>{"vfio-pci.ids=10de:2204"}));
  auto* user = edit_of(p->steps, "/etc/dracut.conf.d/vfio.conf");
  ASSERT_TRUE(user);
  EXPECT_EQ(*user->after, "add_drivers+=\" vfio_pci \"\n");
  auto* ours = edit_of(p->steps, "/etc/dracut.conf.d/exliar-vfio.conf");
  ASSERT_TRUE(ours);
  EXPECT_NE(ours->after->find("force_drivers+=\" vfio_pci vfio vfio_iommu_type1 \""),
            std::string::npos);
  EXPECT_EQ(commands(p->steps),
            (std::vector<std::vector<std::string>>{{"dracut", "--regenerate-all", "--force"}}));
}

TEST(VfioModules, ArchAddressModeEditsMainFileWithFiles) {
  auto m = Machine::of("z690-arch");
  ASSERT_EQ(m.inv.system.initramfs, Initramfs::mkinitcpio);
  VfioRequest req;
  req.mode = BindMode::address;
  req.addresses = {addr("0000:03:00.0"), addr("0000:03:00.1")};
  req.native_drivers = {"amdgpu", "snd_hda_intel"};
  auto p = plan_vfio_modules(m.fs, m.inv, req);
  ASSERT_TRUE(p) << p.error().describe();
  auto* mp = edit_of(p->steps, "/etc/modprobe.d/exliar-vfio.conf");
  ASSERT_TRUE(mp);
  EXPECT_EQ(mp->after->find("options vfio-pci ids="), std::string::npos);
  EXPECT_NE(
      mp->after->find(
          "install vfio-pci /bin/sh /usr/lib/exliar/vfio-early-bind vfio-pci $CMDLINE_OPTS\n"),
      std::string::npos);
  auto* addrs = edit_of(p->steps, "/etc/exliar/vfio-addresses");
  ASSERT_TRUE(addrs);
  auto parsed = parse_early_bind_addresses(*addrs->after);
  EXPECT_EQ(parsed.addresses, req.addresses);
  EXPECT_TRUE(parsed.bad_lines.empty());
  auto* script = edit_of(p->steps, "/usr/lib/exliar/vfio-early-bind");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->mode, 0755u);
  auto* conf = edit_of(p->steps, "/etc/mkinitcpio.conf");
  ASSERT_TRUE(conf);
  EXPECT_NE(
      conf->after->find("MODULES=(vfio_pci vfio vfio_iommu_type1 btrfs i915 kvmgt kvm_intel mdev)"),
      std::string::npos);
  EXPECT_NE(
      conf->after->find("FILES=(/etc/modprobe.d/exliar-vfio.conf /usr/lib/exliar/vfio-early-bind "
                        "/etc/exliar/vfio-addresses)"),
      std::string::npos);
  // Running the plan twice changes nothing the second time.
  MiniTx tx;
  ASSERT_TRUE(tx.run(m.fs, p->steps));
  auto again = plan_vfio_modules(m.fs, m.inv, req);
  ASSERT_TRUE(again);
  EXPECT_TRUE(edits(again->steps).empty());
}

TEST(VfioModules, BoosterRefusesAddressModeAndRebuildsPerKernel) {
  TempRoot t;
  t.write("/lib/modules/6.6.1-arch1-1/modules.dep",
          "kernel/drivers/vfio/pci/vfio-pci.ko:\nkernel/drivers/vfio/vfio.ko:\n"
          "kernel/drivers/vfio/vfio_iommu_type1.ko:\n");
  t.write("/lib/modules/6.6.1-arch1-1/pkgbase", "linux\n");
  t.write("/lib/modules/6.1.60-1-lts/modules.dep",
          "kernel/drivers/vfio/pci/vfio-pci.ko:\nkernel/drivers/vfio/vfio.ko:\n"
          "kernel/drivers/vfio/vfio_iommu_type1.ko:\n");
  t.write("/lib/modules/6.1.60-1-lts/pkgbase", "linux-lts\n");
  t.write("/etc/booster.yaml", "compression: zstd\n");
  auto fs = RealFs::open(t.dir());
  Inventory inv;
  inv.system.initramfs = Initramfs::booster;
  inv.system.iommu.active = true;
  PciDevice d;
  d.address = addr("0000:01:00.0");
  inv.devices.push_back(d);
  VfioRequest req;
  req.ids = {"10de:2204"};
  auto p = plan_vfio_modules(*fs, inv, req);
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(commands(p->steps), (std::vector<std::vector<std::string>>{
                                    {"booster", "build", "--force", "--kernel-version",
                                     "6.1.60-1-lts", "/boot/booster-linux-lts.img"},
                                    {"booster", "build", "--force", "--kernel-version",
                                     "6.6.1-arch1-1", "/boot/booster-linux.img"}}));
  req.mode = BindMode::address;
  req.addresses = {d.address};
  auto refused = plan_vfio_modules(*fs, inv, req);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("booster"), std::string::npos);
}

TEST(VfioModules, BuiltInVfioAddressModePutsRulesOnNativeModules) {
  auto m = Machine::of("mx150-debian");
  VfioRequest req;
  req.mode = BindMode::address;
  req.addresses = {addr("0000:02:00.0")};
  req.native_drivers = {"nvidia"};
  auto p = plan_vfio_modules(m.fs, m.inv, req);
  ASSERT_TRUE(p) << p.error().describe();
  auto* mp = edit_of(p->steps, "/etc/modprobe.d/exliar-vfio.conf");
  ASSERT_TRUE(mp);
  EXPECT_NE(mp->after->find(
                "install nvidia /bin/sh /usr/lib/exliar/vfio-early-bind nvidia $CMDLINE_OPTS\n"),
            std::string::npos);
  auto* hook = edit_of(p->steps, "/etc/initramfs-tools/hooks/exliar-vfio");
  ASSERT_TRUE(hook);
  EXPECT_NE(hook->after->find("copy_file config /etc/exliar/vfio-addresses\n"), std::string::npos);
  EXPECT_TRUE(p->kernel_params.empty());  // no ids on the command line in address mode
}

TEST(VfioModules, DriverNamesMapToModules) {
  TempRoot t;
  t.symlink("../../../../module/xhci_pci", "/sys/bus/pci/drivers/xhci_hcd/module");
  auto fs = RealFs::open(t.dir());
  EXPECT_EQ(module_for_driver(*fs, "xhci_hcd"), "xhci_pci");
  EXPECT_EQ(module_for_driver(*fs, "nvidia-gpu"), "i2c_nvidia_gpu");
  EXPECT_EQ(module_for_driver(*fs, "snd_hda_intel"), "snd_hda_intel");
}

}  // namespace
}  // namespace exliar
