// Bad inputs: each gives a clear error (naming the file and line where there is one) and
// changes nothing on the root.
#include <gtest/gtest.h>

#include "modules/bind.h"
#include "modules/vfio_modules.h"
#include "modules_test_util.h"
#include "probe/probe.h"

namespace exliar {
namespace {

using namespace modules_test;

PciAddress addr(const char* s) { return *parse_pci_address(s); }

/// A small mkinitcpio system with one kernel and one GPU in a group of its own.
TempRoot arch_root(const std::string& conf) {
  TempRoot t;
  t.write("/etc/mkinitcpio.conf", conf);
  t.write("/usr/bin/mkinitcpio", "");
  t.write("/lib/modules/6.6.7-arch1-1/modules.dep",
          "kernel/drivers/vfio/vfio.ko:\nkernel/drivers/vfio/pci/vfio-pci.ko:\nkernel/drivers/vfio/"
          "vfio_iommu_type1.ko:\n");
  return t;
}

Inventory arch_inventory() {
  Inventory inv;
  inv.system.initramfs = Initramfs::mkinitcpio;
  inv.system.iommu.active = true;
  PciDevice d;
  d.address = addr("0000:01:00.0");
  d.class_code = 0x030000;
  d.iommu_group = 1;
  inv.devices.push_back(d);
  inv.groups.push_back({1, {d.address}});
  return inv;
}

VfioRequest ids_request() {
  VfioRequest r;
  r.ids = {"10de:1b81"};
  r.addresses = {addr("0000:01:00.0")};
  r.native_drivers = {"nouveau"};
  return r;
}

struct BadCase {
  const char* name;
  std::function<Error(const TempRoot&, Fs&)> run;  ///< returns the error it got
  const char* expect;                              ///< substring of the message
  int line = 0;                                    ///< expected Error::line (0 = none)
};

Error modules_error(Fs& fs, const Inventory& inv, const VfioRequest& req) {
  auto r = plan_vfio_modules(fs, inv, req);
  EXPECT_FALSE(r) << "expected an error";
  return r ? Error{} : r.error();
}

TEST(BadInput, ClearErrorsAndNothingChanged) {
  const std::string good = "MODULES=(btrfs)\nHOOKS=(base udev modconf)\n";
  std::vector<std::pair<std::string, BadCase>> cases;
  auto add = [&](std::string conf, BadCase c) {
    cases.emplace_back(std::move(conf), std::move(c));
  };

  add("MODULES=(btrfs\n  nouveau\nHOOKS=(base udev)\n",
      {"multi-line array never closed",
       [](const TempRoot&, Fs& fs) { return modules_error(fs, arch_inventory(), ids_request()); },
       "unexpected '('", 3});
  add("BINARIES=()\nMODULES=(btrfs\n  nouveau\n",
      {"array open at end of file",
       [](const TempRoot&, Fs& fs) { return modules_error(fs, arch_inventory(), ids_request()); },
       "never closed", 2});
  add("MODULES=\"btrfs\nHOOKS=(base)\n",
      {"string never closed",
       [](const TempRoot&, Fs& fs) { return modules_error(fs, arch_inventory(), ids_request()); },
       "double quote", 1});
  add(good, {"read-only config",
             [](const TempRoot& t, Fs& fs) {
               sfs::permissions(t.dir() + "/etc/mkinitcpio.conf",
                                sfs::perms::owner_read | sfs::perms::group_read);
               return modules_error(fs, arch_inventory(), ids_request());
             },
             "read-only"});
  add(std::string("MODULES=(\0\x01)\n", 14),
      {"binary config",
       [](const TempRoot&, Fs& fs) { return modules_error(fs, arch_inventory(), ids_request()); },
       "binary"});
  add(good, {"malformed vendor:device id",
             [](const TempRoot&, Fs& fs) {
               auto r = ids_request();
               r.ids = {"10de:12345"};
               return modules_error(fs, arch_inventory(), r);
             },
             "not a PCI vendor:device ID"});
  add(good, {"requested address not on the host",
             [](const TempRoot&, Fs& fs) {
               auto r = ids_request();
               r.addresses = {addr("0000:42:00.0")};
               return modules_error(fs, arch_inventory(), r);
             },
             "no PCI device at 0000:42:00.0"});
  add(good, {"driver name with a shell metacharacter",
             [](const TempRoot&, Fs& fs) {
               auto r = ids_request();
               r.native_drivers = {"nouveau; rm -rf /"};
               return modules_error(fs, arch_inventory(), r);
             },
             "not a driver or module name"});
  add(good, {"unknown initramfs generator",
             [](const TempRoot&, Fs& fs) {
               auto inv = arch_inventory();
               inv.system.initramfs = Initramfs::unknown;
               return modules_error(fs, inv, ids_request());
             },
             "--no-initramfs"});
  add(good, {"no installed kernel",
             [](const TempRoot& t, Fs& fs) {
               sfs::remove_all(t.dir() + "/lib/modules/6.6.7-arch1-1");
               return modules_error(fs, arch_inventory(), ids_request());
             },
             "no installed kernel"});
  add(good, {"dracut drop-in with an unclosed quote",
             [](const TempRoot& t, Fs& fs) {
               t.write("/etc/dracut.conf.d/10-user.conf",
                       "hostonly=\"yes\"\nadd_drivers+=\" vfio \n");
               auto inv = arch_inventory();
               inv.system.initramfs = Initramfs::dracut;
               return modules_error(fs, inv, ids_request());
             },
             "never closed", 2});
  add(good, {"booster list that is not a comma list",
             [](const TempRoot& t, Fs& fs) {
               t.write("/etc/booster.yaml", "universal: false\nmodules_force_load: [vfio]\n");
               auto inv = arch_inventory();
               inv.system.initramfs = Initramfs::booster;
               return modules_error(fs, inv, ids_request());
             },
             "not a plain comma-separated list", 2});
  add(good, {"bind: not a PCI address",
             [](const TempRoot&, Fs& fs) {
               return plan_bind(fs, arch_inventory(), "01:00", false).error();
             },
             "is not a PCI address"});
  add(good, {"bind: unknown address",
             [](const TempRoot&, Fs& fs) {
               return plan_bind(fs, arch_inventory(), "0000:05:00.0", false).error();
             },
             "no PCI device at 0000:05:00.0"});
  add(good, {"bind: device in no IOMMU group",
             [](const TempRoot&, Fs& fs) {
               auto inv = arch_inventory();
               inv.devices[0].iommu_group.reset();
               return plan_bind(fs, inv, "0000:01:00.0", false).error();
             },
             "belongs to no IOMMU group"});
  add(good, {"bind: no IOMMU",
             [](const TempRoot&, Fs& fs) {
               auto inv = arch_inventory();
               inv.system.iommu.active = false;
               inv.groups.clear();
               return plan_bind(fs, inv, "0000:01:00.0", true).error();  // even with --force
             },
             "IOMMU is not active"});
  add(good, {"bind: group of bridges only",
             [](const TempRoot&, Fs& fs) {
               auto inv = arch_inventory();
               inv.devices[0].class_code = 0x060400;
               return plan_bind(fs, inv, "0000:01:00.0", false).error();
             },
             "only PCI bridges"});
  add(good, {"bind: no driver_override attribute",
             [](const TempRoot&, Fs& fs) {
               return plan_bind(fs, arch_inventory(), "0000:01:00.0", false).error();
             },
             "driver_override"});
  add(good, {"unbind: corrupt saved state",
             [](const TempRoot& t, Fs& fs) {
               t.write("/var/lib/exliar/bind/group-1", "# header\n0000:01:00.0 nouveau\n");
               return plan_unbind(fs, arch_inventory(), "0000:01:00.0").error();
             },
             "ADDRESS DRIVER OVERRIDE", 2});
  add(good, {"bind: group already bound by exliar",
             [](const TempRoot& t, Fs& fs) {
               t.write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "(null)\n");
               t.write("/var/lib/exliar/bind/group-1", "0000:01:00.0 nouveau -\n");
               return plan_bind(fs, arch_inventory(), "0000:01:00.0", false).error();
             },
             "already bound by exliar"});

  ASSERT_GE(cases.size(), 10u);
  for (auto& [conf, c] : cases) {
    SCOPED_TRACE(c.name);
    TempRoot t = arch_root(conf);
    auto fs = RealFs::open(t.dir());
    ASSERT_TRUE(fs);
    // Whatever the case set up is part of "before"; the call itself must change nothing.
    Error e;
    std::map<std::string, std::string> before;
    {
      // Run once to let the case prepare its files, then snapshot and run again.
      (void)c.run(t, *fs);
      before = snapshot(t.dir());
      e = c.run(t, *fs);
    }
    EXPECT_NE(e.message.find(c.expect), std::string::npos) << e.describe();
    if (c.line) {
      EXPECT_EQ(e.line, c.line) << e.describe();
    }
    EXPECT_EQ(snapshot(t.dir()), before);
  }
}

}  // namespace
}  // namespace exliar
