// Backends on fixture roots: detection, reading, the steps they plan.
#include "boot/backend.h"

#include <gtest/gtest.h>

#include "boot/entry_files.h"
#include "boot_test_util.h"
#include "host/paths.h"

namespace exliar::boot {
namespace {

using test::data;
using test::TempRoot;
using V = std::vector<std::string>;

System sys_of(Bootloader b, const char* distro) {
  System s;
  s.bootloader = b;
  s.distro.id = distro;
  return s;
}

std::vector<EditFile> edits_of(const BootPlan& p) {
  std::vector<EditFile> out;
  for (const auto& s : p.steps)
    if (auto* e = std::get_if<EditFile>(&s.action)) out.push_back(*e);
  return out;
}
std::vector<RunCommand> commands_of(const BootPlan& p) {
  std::vector<RunCommand> out;
  for (const auto& s : p.steps)
    if (auto* c = std::get_if<RunCommand>(&s.action)) out.push_back(*c);
  return out;
}

TEST(GrubBackend, DropInThatSetsTheVariableIsWhereTheEditGoes) {
  TempRoot root;
  std::string main =
      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"";  // no final newline
  std::string dropin = "# cloud image\nGRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\n";
  root.write("/etc/default/grub", main);
  root.write("/etc/default/grub.d/50-cloudimg-settings.cfg", dropin);
  root.write("/usr/sbin/update-grub", "");
  auto fs = root.fs();
  auto be = *select_backend(fs, sys_of(Bootloader::grub, "ubuntu"));
  EXPECT_EQ(be->name(), "grub");
  auto cfg = be->read(fs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->entries[0].params, (V{"console=tty1", "console=ttyS0"}));
  EXPECT_EQ(cfg->entries[0].origins.back().path, "/etc/default/grub.d/50-cloudimg-settings.cfg");
  EXPECT_EQ(cfg->entries[0].origins.back().line, 2);
  auto plan = be->plan(fs, add_edits({"intel_iommu=on", "iommu=pt"}));
  ASSERT_TRUE(plan) << plan.error().describe();
  auto e = edits_of(*plan);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].path, "/etc/default/grub.d/50-cloudimg-settings.cfg");
  EXPECT_EQ(*e[0].after,
            "# cloud image\nGRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0 intel_iommu=on "
            "iommu=pt\"\n");
  EXPECT_EQ(commands_of(*plan).at(0).argv, (V{"update-grub"}));
  // Removing "quiet" (overridden, not effective) touches nothing.
  auto none = be->plan(fs, {{ParamEdit::Op::remove, "quiet"}});
  EXPECT_TRUE(none->steps.empty());
}

TEST(GrubBackend, SelfReferenceChainAndEscapedQuotes) {
  TempRoot root;
  root.write("/etc/default/grub",
             "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet acpi_osi=\\\"Windows 2015\\\"\"  # keep\n"
             "GRUB_CMDLINE_LINUX='rd.luks.uuid=1234'\n");
  root.write("/etc/default/grub.d/90-iommu.cfg",
             "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT iommu=pt\"\n");
  auto fs = root.fs();
  auto be = *select_backend(fs, sys_of(Bootloader::grub, "debian"));
  auto cfg = be->read(fs);
  ASSERT_TRUE(cfg) << cfg.error().describe();
  EXPECT_EQ(cfg->entries[0].params,
            (V{"rd.luks.uuid=1234", "quiet", "acpi_osi=\"Windows 2015\"", "iommu=pt"}));
  EXPECT_EQ(cfg->entries[1].params, (V{"rd.luks.uuid=1234"}));  // recovery: GRUB_CMDLINE_LINUX only
  // iommu=pt lives in the drop-in, quiet in the main file: a remove edits both.
  auto plan = be->plan(fs, {{ParamEdit::Op::remove, "iommu=pt"}, {ParamEdit::Op::remove, "quiet"}});
  ASSERT_TRUE(plan) << plan.error().describe();
  auto e = edits_of(*plan);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(*e[0].after,
            "GRUB_CMDLINE_LINUX_DEFAULT=\"acpi_osi=\\\"Windows 2015\\\"\"  # keep\n"
            "GRUB_CMDLINE_LINUX='rd.luks.uuid=1234'\n");
  EXPECT_EQ(*e[1].after, "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT\"\n");
  // Adding to the single-quoted GRUB_CMDLINE_LINUX when _DEFAULT is absent.
  TempRoot r2;
  r2.write("/etc/default/grub", "GRUB_CMDLINE_LINUX='quiet'\n");
  auto fs2 = r2.fs();
  auto p2 =
      (*select_backend(fs2, sys_of(Bootloader::grub, "arch")))->plan(fs2, add_edits({"iommu=pt"}));
  ASSERT_TRUE(p2);
  EXPECT_EQ(*edits_of(*p2)[0].after, "GRUB_CMDLINE_LINUX='quiet iommu=pt'\n");
  EXPECT_EQ(commands_of(*p2)[0].argv, (V{"grub-mkconfig", "-o", "/boot/grub/grub.cfg"}));
}

TEST(GrubBackend, UnquotedAndMissingVariables) {
  TempRoot root;
  root.write("/etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=quiet\n");
  root.write("/etc/default/grub.d/x.cfg",
             "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT quiet\"\n");
  auto fs = root.fs();
  auto p =
      (*select_backend(fs, sys_of(Bootloader::grub, "arch")))->plan(fs, add_edits({"iommu=pt"}));
  ASSERT_TRUE(p) << p.error().describe();
  // Arch does not read grub.d, and the unquoted value gets quotes to hold a second word.
  EXPECT_EQ(*edits_of(*p)[0].after, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"quiet iommu=pt\"\n");
  TempRoot r2;
  r2.write("/etc/default/grub", "GRUB_TIMEOUT=5");
  auto fs2 = r2.fs();
  auto p2 =
      (*select_backend(fs2, sys_of(Bootloader::grub, "arch")))->plan(fs2, add_edits({"iommu=pt"}));
  ASSERT_TRUE(p2);
  EXPECT_EQ(*edits_of(*p2)[0].after, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=pt\"\n");
}

TEST(GrubBackend, FedoraSymlinkBiosEfiAndBls) {
  // Legacy Fedora EFI: the ESP holds the real grub.cfg; the symlinked defaults are edited
  // through their target.
  TempRoot root;
  root.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n");
  root.symlink("../default/grub", "/etc/sysconfig/grub");
  root.write("/boot/efi/EFI/fedora/grub.cfg", "menuentry 'Fedora' { linux /vmlinuz }\n");
  root.write("/usr/sbin/grub2-mkconfig", "");
  auto fs = root.fs();
  auto be = *select_backend(fs, sys_of(Bootloader::grub, "fedora"));
  EXPECT_EQ(be->name(), "grub");
  auto p = be->plan(fs, add_edits({"intel_iommu=on"}));
  ASSERT_TRUE(p);
  EXPECT_EQ(edits_of(*p)[0].path, "/etc/default/grub");
  EXPECT_EQ(commands_of(*p)[0].argv, (V{"grub2-mkconfig", "-o", "/boot/efi/EFI/fedora/grub.cfg"}));
  // Fedora >= 34: the ESP file is a stub; the real config is /boot/grub2/grub.cfg.
  root.write("/boot/efi/EFI/fedora/grub.cfg", "search --fs-uuid x\nconfigfile $prefix/grub.cfg\n");
  root.write("/boot/grub2/grub.cfg", "menuentry\n");
  p = be->plan(fs, add_edits({"intel_iommu=on"}));
  EXPECT_EQ(commands_of(*p)[0].argv, (V{"grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"}));
  // BLS: entries carry the options; grubby applies them, GRUB_CMDLINE_LINUX persists them.
  root.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_ENABLE_BLSCFG=true\n");
  root.write("/boot/loader/entries/abc-6.5.fc39.x86_64.conf",
             "title Fedora Linux (6.5)\nversion 6.5\nlinux /vmlinuz-6.5\noptions root=UUID=1 ro "
             "vfio-pci.ids=10de:1b80 rhgb quiet\n");
  be = *select_backend(fs, sys_of(Bootloader::grub, "fedora"));
  EXPECT_EQ(be->name(), "grub-bls");
  auto cfg = be->read(fs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->entries[0].params,
            (V{"root=UUID=1", "ro", "vfio-pci.ids=10de:1b80", "rhgb", "quiet"}));
  p = be->plan(fs, add_edits({"intel_iommu=on", "vfio-pci.ids=10de:10f0"}));
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(*edits_of(*p)[0].after,
            "GRUB_CMDLINE_LINUX=\"rhgb quiet intel_iommu=on "
            "vfio-pci.ids=10de:10f0\"\nGRUB_ENABLE_BLSCFG=true\n");
  auto cmds = commands_of(*p);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].argv, (V{"grubby", "--update-kernel=ALL", "--args=intel_iommu=on"}));
  EXPECT_EQ(cmds[0].undo_argv,
            (V{"grubby", "--update-kernel=ALL", "--remove-args=intel_iommu=on"}));
  EXPECT_EQ(cmds[1].argv,
            (V{"grubby", "--update-kernel=ALL", "--args=vfio-pci.ids=10de:1b80,10de:10f0"}));
  EXPECT_EQ(cmds[1].undo_argv,
            (V{"grubby", "--update-kernel=ALL", "--args=vfio-pci.ids=10de:1b80"}));
  // Adds whose undos are all removals: one grubby call (one regeneration per plan, issue
  // 23), undone in reverse order. The mixed case above stays one call per parameter.
  p = be->plan(fs, add_edits({"intel_iommu=on", "iommu=pt", "rd.driver.pre=vfio-pci"}));
  ASSERT_TRUE(p) << p.error().describe();
  cmds = commands_of(*p);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].argv, (V{"grubby", "--update-kernel=ALL",
                             "--args=intel_iommu=on iommu=pt rd.driver.pre=vfio-pci"}));
  EXPECT_EQ(cmds[0].undo_argv, (V{"grubby", "--update-kernel=ALL",
                                  "--remove-args=rd.driver.pre iommu=pt intel_iommu=on"}));
  // The same key twice is never merged: grubby's order between its values is not relied on.
  p = be->plan(fs, add_edits({"iommu=pt", "iommu=on"}));
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_NE(commands_of(*p).size(), 1u);
}

TEST(SystemdBoot, EveryInstalledEntryTabsSeveralOptionsAndComments) {
  TempRoot root;
  root.write("/boot/vmlinuz-linux", "");
  root.write("/boot/loader/entries/arch.conf",
             data("arch-amd-iommu-hugepages-luks.loader-entry.conf"));
  root.write("/boot/loader/entries/custom.conf",
             "title\tCustom\nlinux\t/vmlinuz-linux\noptions\troot=/dev/sda2 rw\n# comment "
             "line\noptions\tquiet  # tail\n");
  root.write("/boot/loader/entries/old.conf",
             "title Old\nlinux /vmlinuz-5.4\noptions root=/dev/sda2\n");
  auto fs = root.fs();
  auto be = *select_backend(fs, sys_of(Bootloader::systemd_boot, "arch"));
  auto cfg = be->read(fs);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->entries.size(), 2u);
  EXPECT_EQ(cfg->entries[1].params, (V{"root=/dev/sda2", "rw", "quiet"}));
  EXPECT_EQ(cfg->entries[1].origins.size(), 2u);
  ASSERT_EQ(cfg->notes.size(), 1u);  // the stale 5.4 entry
  auto p = be->plan(fs, add_edits({"iommu=pt", "vfio-pci.ids=1002:73bf"}));
  ASSERT_TRUE(p) << p.error().describe();
  auto e = edits_of(*p);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(*e[1].after,
            "title\tCustom\nlinux\t/vmlinuz-linux\noptions\troot=/dev/sda2 rw\n# comment line\n"
            "options\tquiet iommu=pt vfio-pci.ids=1002:73bf  # tail\n");
  EXPECT_TRUE(commands_of(*p).empty());
  auto rm = be->plan(fs, {{ParamEdit::Op::remove, "rw"}});
  ASSERT_TRUE(rm);
  EXPECT_EQ(edits_of(*rm).size(), 2u);  // both entries had rw; the stale one is untouched
}

TEST(SystemdBoot, ProxmoxKernelCmdlineAndRefresh) {
  TempRoot root;
  root.write("/etc/kernel/cmdline",
             data("proxmox-zfs-systemd-boot-intel-iommu-isolcpus.etc-kernel-cmdline"));
  root.write("/etc/kernel/proxmox-boot-uuids", "1234-5678\n");
  auto fs = root.fs();
  auto be = *select_backend(fs, sys_of(Bootloader::systemd_boot, "debian"));
  auto p = be->plan(fs, add_edits({"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1b80"}));
  ASSERT_TRUE(p) << p.error().describe();
  auto e = edits_of(*p);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(*e[0].after,
            "root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt isolcpus=2-7 nohz_full=2-7 "
            "rcu_nocbs=2-7 vfio-pci.ids=10de:1b80\n");
  EXPECT_EQ(commands_of(*p).at(0).argv, (V{"proxmox-boot-tool", "refresh"}));
  EXPECT_EQ(p->applied.size(), 1u);
}

TEST(Select, UnknownLoaderIsAnError) {
  TempRoot root;
  auto fs = root.fs();
  EXPECT_FALSE(select_backend(fs, sys_of(Bootloader::unknown, "debian")));
}

TEST(ManagedParams, VendorInitramfsAndQuirks) {
  ManagedParamsInput in;
  in.cpu = CpuVendor::amd;
  in.ids = {"10de:1b80"};
  EXPECT_EQ(*managed_params(in), (V{"iommu=pt", "vfio-pci.ids=10de:1b80"}));  // never amd_iommu=on
  in.cpu = CpuVendor::intel;
  in.initramfs = Initramfs::dracut;
  in.acs_override = true;
  in.framebuffer = FramebufferQuirk::automatic;
  in.kernel = "5.10.0-28-amd64";
  in.extras = {"kvm.ignore_msrs=1"};
  EXPECT_EQ(
      *managed_params(in),
      (V{"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1b80", "rd.driver.pre=vfio-pci",
         "pcie_acs_override=downstream,multifunction", "video=efifb:off", "kvm.ignore_msrs=1"}));
  in.kernel = "6.1.0";
  EXPECT_EQ(managed_params(in)->at(5), "initcall_blacklist=sysfb_init");
  in.ids = {"10de"};
  EXPECT_FALSE(managed_params(in));
  in.ids = {};
  in.extras = {"two words"};
  EXPECT_FALSE(managed_params(in));
}

}  // namespace
}  // namespace exliar::boot

namespace exliar::boot {
namespace {

// Found by fuzz_boot_loader_entry: a bare "options" line (no blank after the key) must
// not become "optionsiommu=pt".
TEST(LoaderEntry, BareOptionsKeyIsNotGluedToANewToken) {
  std::string t = "title x\nlinux /vmlinuz\noptions\n";
  auto r = edit_loader_entry(t, add_edits({"iommu=pt"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(t, "title x\nlinux /vmlinuz\noptions\noptions iommu=pt\n");
  std::string u = "title x\noptions   \n";
  ASSERT_TRUE(edit_loader_entry(u, add_edits({"iommu=pt"})));
  EXPECT_EQ(u, "title x\noptions   iommu=pt\n");
  ASSERT_TRUE(edit_loader_entry(u, {{ParamEdit::Op::remove, "iommu=pt"}}));
  EXPECT_EQ(u, "title x\noptions   \n");
}

}  // namespace
}  // namespace exliar::boot
