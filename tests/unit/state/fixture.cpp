#include "unit/state/fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "state/journal.h"
#include "state/transaction.h"

namespace exliar::test {

void make_machine(const std::string& d) {
  put(d, "etc/default/grub", kGrubBefore);
  put(d, "etc/mkinitcpio.conf", "MODULES=()\nHOOKS=(base udev autodetect)", 0600);  // no final \n
  put(d, "etc/modprobe.d/old-vfio.conf", "options vfio-pci ids=dead:beef\n");
  put(d, "etc/modprobe.d/nvidia.conf", "blacklist nouveau\n", 0640);
  put(d, "usr/lib/os-release", "ID=arch\n");
  ::symlink("../usr/lib/os-release", (d + "/etc/os-release").c_str());
  put(d, "sys/bus/pci/devices/0000:01:00.0/driver_override", "(null)\n");
  put(d, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n");
  put(d, "var/lib/.keep", "");
}

Plan realistic_plan() {
  Plan p;
  p.intent.command = "apply";
  p.intent.gpu = "0000:01:00.0";
  p.intent.bind_mode = "ids";
  p.steps.push_back(edit_step({"/etc/default/grub", kGrubBefore, kGrubAfter, 0644},
                              "enable the IOMMU and claim the GPU at boot", "boot/grub"));
  p.steps.push_back(
      edit_step({"/etc/modprobe.d/vfio.conf", std::nullopt,
                 "softdep nvidia pre: vfio-pci\noptions vfio-pci ids=10de:1d01\n", 0644},
                "load vfio-pci before the GPU driver", "modules/modprobe"));
  p.steps.push_back(edit_step(
      {"/etc/exliar-test/hooks/early/vfio.hook", std::nullopt, "#!/bin/sh\necho early\n", 0755},
      "a file in three new directories", "test"));
  p.steps.push_back(edit_step(
      {"/etc/modprobe.d/old-vfio.conf", "options vfio-pci ids=dead:beef\n", std::nullopt, 0644},
      "remove a stale option file", "modules/modprobe"));
  p.steps.push_back(
      edit_step({"/etc/mkinitcpio.conf", "MODULES=()\nHOOKS=(base udev autodetect)",
                 "MODULES=(vfio_pci vfio vfio_iommu_type1)\nHOOKS=(base udev autodetect)", 0644},
                "put vfio into the initramfs", "modules/mkinitcpio"));
  p.steps.push_back(
      command_step({{"mkinitcpio", "-P"}, "rebuild the initramfs", {"mkinitcpio", "-P"}},
                   "the initramfs must contain vfio-pci", "modules/mkinitcpio"));
  p.steps.push_back(command_step({{"update-grub"}, "regenerate grub.cfg", {"update-grub"}},
                                 "grub.cfg must carry the new parameters", "boot/grub"));
  WriteSysfs w{kOverride, "vfio-pci", std::nullopt, "(null)\n"};
  p.steps.push_back(Step{w, "let vfio-pci claim the GPU now", "modules/bind"});
  p.expect_cmdline = {"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1d01"};
  p.expect_vfio = {"0000:01:00.0"};
  return p;
}

Rig::Rig() {
  root = tmp.path() + "/root";
  ::mkdir(root.c_str(), 0755);
  make_machine(root);
  auto r = RealFs::open(root);
  real = std::make_unique<RealFs>(std::move(*r));
  fs = std::make_unique<FaultyFs>(*real);
  ctx = std::make_unique<Context>(Context{*fs, runner, {}, {}, false, true, {}});
  ctx->output.verbosity = Verbosity::quiet;
  original = now();
}

void recover_and_compare(Rig& rig, const std::string& what) {
  auto ids = list_transactions(*rig.fs);
  ASSERT_TRUE(ids);
  if (!ids->empty()) {
    auto tx = load_transaction(*rig.fs, ids->back());
    ASSERT_TRUE(tx) << what << ": " << tx.error().describe();
    if (tx->state != TxState::rolled_back) {
      auto rec = undo_transaction(*rig.ctx, "");
      ASSERT_TRUE(rec) << what << ": " << rec.error().error.describe();
    }
  }
  EXPECT_EQ(tree_diff(rig.original, rig.now()), "") << what;
}

}  // namespace exliar::test
