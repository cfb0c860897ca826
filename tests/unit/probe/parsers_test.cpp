#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "probe/inventory.h"
#include "probe/os_release.h"
#include "probe/pci_ids.h"
#include "probe/system.h"

namespace exliar {
namespace {

TEST(PciAddress, ParsesFullAndShortForms) {
  auto a = parse_pci_address("0000:01:00.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bus, 1);
  EXPECT_EQ(a->fn, 1);
  EXPECT_EQ(a->str(), "0000:01:00.1");
  EXPECT_EQ(parse_pci_address("01:00.0")->str(), "0000:01:00.0");
  EXPECT_EQ(parse_pci_address("10000:e1:1f.7")->str(), "10000:e1:1f.7");
  for (auto bad : {"", "01:00", "0000:01:00.8", "0000:01:20.0", "zz:00.0", "0000:001:00.0",
                   "pci0000:00", "0000:01:00.0.1"})
    EXPECT_FALSE(parse_pci_address(bad)) << bad;
}

RC_GTEST_PROP(PciAddress, RoundTrips,
              (std::uint16_t dom, std::uint8_t bus, std::uint8_t dev, std::uint8_t fn)) {
  PciAddress a;
  a.domain = dom;
  a.bus = bus;
  a.dev = dev % 32;
  a.fn = fn % 8;
  auto back = parse_pci_address(a.str());
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == a);
}

TEST(OsRelease, QuotingStyles) {
  auto kv = parse_os_release(
      "NAME=\"openSUSE Tumbleweed\"\n# comment\nID='opensuse-tumbleweed'\nID_LIKE=\"opensuse "
      "suse\"\n"
      "PRETTY_NAME=\"Pop!_OS \\\"22.04\\\" LTS\"\nVERSION_ID=22.04\nnot an assignment\n");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->at("ID"), "opensuse-tumbleweed");
  EXPECT_EQ(kv->at("ID_LIKE"), "opensuse suse");
  EXPECT_EQ(kv->at("PRETTY_NAME"), "Pop!_OS \"22.04\" LTS");
  EXPECT_EQ(kv->at("VERSION_ID"), "22.04");
}

TEST(OsRelease, UnterminatedQuoteNamesTheLine) {
  auto kv = parse_os_release("ID=arch\nNAME=\"Arch Linux\nVERSION_ID=1\n");
  ASSERT_FALSE(kv);
  EXPECT_EQ(kv.error().line, 2);
}

TEST(Cpuinfo, VendorModelAndFlags) {
  auto cpu = parse_cpuinfo(
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD Ryzen 7 4800U\n"
      "flags\t\t: fpu vme svm sse\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n");
  EXPECT_EQ(cpu.vendor, CpuVendor::amd);
  EXPECT_EQ(cpu.virtualization, Virtualization::svm);
  EXPECT_EQ(*cpu.model, "AMD Ryzen 7 4800U");
  EXPECT_FALSE(cpu.hypervisor);
  auto guest = parse_cpuinfo("vendor_id : GenuineIntel\nflags : fpu sse hypervisor\n");
  EXPECT_EQ(guest.vendor, CpuVendor::intel);
  EXPECT_EQ(guest.virtualization, Virtualization::none);
  EXPECT_TRUE(guest.hypervisor);
  EXPECT_EQ(parse_cpuinfo("").vendor, CpuVendor::unknown);
}

TEST(Cmdline, IommuTokens) {
  auto t = iommu_cmdline_tokens(
      "BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet intel_iommu=on iommu=pt "
      "pcie_acs_override=downstream,multifunction vfio-pci.ids=10de:1d01 iommu.strict=1");
  std::vector<std::string> want = {"intel_iommu=on", "iommu=pt",
                                   "pcie_acs_override=downstream,multifunction", "iommu.strict=1"};
  EXPECT_EQ(t, want);
}

TEST(SecureBootVar, AttributeBytesThenValue) {
  EXPECT_EQ(parse_secure_boot_var(std::string("\x06\x00\x00\x00\x01", 5)), SecureBoot::enabled);
  EXPECT_EQ(parse_secure_boot_var(std::string("\x06\x00\x00\x00\x00", 5)), SecureBoot::disabled);
  EXPECT_EQ(parse_secure_boot_var("\x06"), SecureBoot::unknown);
}

TEST(PciIds, VendorAndDeviceLookup) {
  std::string text =
      "# comment\n"
      "1002  Advanced Micro Devices, Inc. [AMD/ATI]\n"
      "\t73df  Navi 22 [Radeon RX 6700/6700 XT/6750 XT / 6800M/6850M XT]\n"
      "\t\t1002 0e36  Radeon RX 6700 XT\n"
      "10de  NVIDIA Corporation\n"
      "\t0fb8  GP108 High Definition Audio Controller\n"
      "\t1d01  GP108 [GeForce GT 1030]\n"
      "C 03  Display controller\n"
      "\t00  VGA compatible controller\n";
  PciIds ids(text);
  EXPECT_EQ(ids.vendor_count(), 2u);
  EXPECT_EQ(*ids.vendor(0x10de), "NVIDIA Corporation");
  EXPECT_EQ(*ids.device(0x10de, 0x1d01), "GP108 [GeForce GT 1030]");
  EXPECT_EQ(*ids.device(0x1002, 0x73df),
            "Navi 22 [Radeon RX 6700/6700 XT/6750 XT / 6800M/6850M XT]");
  EXPECT_FALSE(ids.device(0x10de, 0x0e36));  // subsystem line, not a device
  EXPECT_FALSE(ids.vendor(0x8086));
  EXPECT_FALSE(ids.device(0x8086, 0x3e92));
}

RC_GTEST_PROP(PciIds, NeverCrashesOnJunk, (const std::string& junk)) {
  PciIds ids(junk);
  (void)ids.vendor(0x10de);
  (void)ids.device(0x10de, 0x1d01);
}

}  // namespace
}  // namespace exliar
