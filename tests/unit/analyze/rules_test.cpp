// One test (or more) per rule, on minimal hand-built inventories.
#include <gtest/gtest.h>

#include <algorithm>

#include "analyze/findings.h"
#include "unit/gpu/fake_inventory.h"

using namespace exliar;
using namespace exliar::analyze;
using namespace exliar::testing;

namespace {

struct Run {
  std::vector<gpu::GpuInfo> gpus;
  Report report;
  const Finding* find(const std::string& id, const std::string& subject = "") const {
    for (const auto& f : report.findings)
      if (f.id == id && (subject.empty() || f.subject == subject)) return &f;
    return nullptr;
  }
};

Run run(FakeInventory& f, const ConfigFacts& facts = {}, std::optional<PciAddress> only = {}) {
  Run r;
  r.gpus = gpu::classify(f.done(), shipped_db());
  r.report = analyze::analyze(f.inv, r.gpus, facts, only);
  return r;
}

/// Intel iGPU host + a GT 1030 in its own group: the asrock-z370 shape.
FakeInventory two_gpus() {
  FakeInventory f;
  f.inv.system.cpu.vendor = CpuVendor::intel;
  f.inv.system.cpu.virtualization = Virtualization::vmx;
  auto& igpu = f.add("0000:00:02.0", 0x8086, 0x3e92, 0x030000, 0);
  igpu.boot_vga = true;
  igpu.driver = "i915";
  f.add("0000:00:01.0", 0x8086, 0x1901, 0x060400, 2);
  auto& nv = f.add("0000:01:00.0", 0x10de, 0x1d01, 0x030000, 2, 0xa1);
  nv.driver = "nouveau";
  f.add("0000:01:00.1", 0x10de, 0x0fb8, 0x040300, 2);
  return f;
}

bool mentions(const Finding& f, const std::string& s) {
  if (f.message.find(s) != std::string::npos || (f.fix && f.fix->find(s) != std::string::npos))
    return true;
  return std::any_of(f.evidence.begin(), f.evidence.end(),
                     [&](const std::string& e) { return e.find(s) != std::string::npos; });
}

}  // namespace

TEST(Rules, TableIdsAreStableAndUnique) {
  std::vector<std::string> ids;
  for (const auto& r : rules()) ids.push_back(r.id);
  auto sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  for (auto want :
       {"no-gpu", "iommu-inactive", "cpu-virtualization-missing", "vfio-virqfd-removed",
        "kernel-too-old", "iommu-group-shared", "only-gpu", "boot-gpu", "reset-bug", "code-43-risk",
        "vbios-needed", "secure-boot-out-of-tree", "native-driver-bound"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), want), ids.end()) << want;
}

TEST(Rules, HealthyTwoGpuHostIsReadyOnceTheResetIsMeasured) {
  auto f = two_gpus();
  // No source states how a GT 1030 resets: an unmeasured reset is the one warning.
  auto unmeasured = run(f);
  ASSERT_EQ(unmeasured.report.verdicts.size(), 2u);
  EXPECT_EQ(unmeasured.report.verdicts[1].status, VerdictStatus::warnings);
  int warnings = 0;
  for (const auto& x : unmeasured.report.findings)
    if (x.subject == "0000:01:00.0" && x.severity == Severity::warning) {
      ++warnings;
      EXPECT_EQ(x.id, "reset-unknown");
      EXPECT_TRUE(mentions(x, "exliar test 0000:01:00.0"));
    }
  EXPECT_EQ(warnings, 1);

  ConfigFacts facts;
  facts.measured.push_back({"0000:01:00.0", "2026-12-03T10:00:00Z", true, "bus", 3});
  auto r = run(f, facts);
  EXPECT_EQ(r.report.verdicts[1].status, VerdictStatus::ready) << r.report.verdicts[1].summary;
  EXPECT_EQ(check_exit_code(r.report), 0);
  EXPECT_FALSE(r.find("reset-unknown", "0000:01:00.0"));
  EXPECT_TRUE(r.find("code-43-risk", "0000:01:00.0"));
  EXPECT_EQ(r.find("code-43-risk")->severity, Severity::info);
}

TEST(Rules, NoGpu) {
  FakeInventory f;
  f.add("0000:00:1f.0", 0x8086, 0xa305, 0x060100, -1);
  auto r = run(f);
  ASSERT_TRUE(r.find("no-gpu"));
  EXPECT_EQ(r.find("no-gpu")->severity, Severity::error);
  EXPECT_EQ(check_exit_code(r.report), 1);
}

TEST(Rules, IommuInactiveAmdSaysNoParameterNeeded) {
  auto f = two_gpus();
  f.inv.system.iommu.active = false;
  f.inv.system.cpu.vendor = CpuVendor::amd;
  f.inv.system.iommu.cmdline = {"amd_iommu=on"};
  auto r = run(f);
  const Finding* x = r.find("iommu-inactive");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->subject, "system");
  EXPECT_TRUE(mentions(*x, "amd_iommu=on is not a valid value"));
  EXPECT_FALSE(mentions(*x, "add intel_iommu=on"));
  for (const auto& v : r.report.verdicts) EXPECT_EQ(v.status, VerdictStatus::blocked);
  EXPECT_EQ(check_exit_code(r.report), 1);
}

TEST(Rules, IommuInactiveIntelSaysIntelIommuOn) {
  auto f = two_gpus();
  f.inv.system.iommu.active = false;
  auto r = run(f);
  ASSERT_TRUE(r.find("iommu-inactive"));
  EXPECT_TRUE(mentions(*r.find("iommu-inactive"), "intel_iommu=on"));
}

TEST(Rules, CpuVirtualizationMissingInsideVm) {
  auto f = two_gpus();
  f.inv.system.cpu.virtualization = Virtualization::none;
  f.inv.system.cpu.hypervisor = true;
  auto r = run(f);
  ASSERT_TRUE(r.find("cpu-virtualization-missing"));
  EXPECT_TRUE(mentions(*r.find("cpu-virtualization-missing"), "nested"));
  EXPECT_TRUE(r.find("running-in-vm"));
}

TEST(Rules, GroupSharedListsDevicesAndAcsCost) {
  auto f = two_gpus();
  f.add("0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, 2);  // USB controller in the GPU's group
  auto r = run(f);
  const Finding* x = r.find("iommu-group-shared", "0000:01:00.0");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->severity, Severity::error);
  EXPECT_TRUE(mentions(*x, "0000:00:14.0"));
  EXPECT_TRUE(mentions(*x, "pcie_acs_override"));
  EXPECT_TRUE(mentions(*x, "DMA"));
  EXPECT_EQ(r.report.verdicts[1].status, VerdictStatus::blocked);
}

TEST(Rules, OnlyGpuIsAnError) {
  FakeInventory f;
  auto& d = f.add("0000:01:00.0", 0x1002, 0x73df, 0x030000, 1, 0xc1);
  d.boot_vga = true;
  auto r = run(f);
  ASSERT_TRUE(r.find("only-gpu"));
  EXPECT_EQ(r.find("only-gpu")->severity, Severity::error);
  EXPECT_TRUE(mentions(*r.find("only-gpu"), "single-GPU passthrough"));
  EXPECT_FALSE(r.find("boot-gpu"));  // only-gpu says it already
  EXPECT_EQ(check_exit_code(r.report), 1);
}

TEST(Rules, OnlyGpuNextToBmcIsAWarning) {
  FakeInventory f;
  f.add("0000:01:00.0", 0x1002, 0x73df, 0x030000, 1, 0xc1);
  f.add("0000:05:00.0", 0x1a03, 0x2000, 0x030000, 5);
  auto r = run(f);
  ASSERT_TRUE(r.find("only-gpu"));
  EXPECT_EQ(r.find("only-gpu")->severity, Severity::warning);
  EXPECT_TRUE(r.find("not-a-passthrough-target", "0000:05:00.0"));
}

TEST(Rules, BootGpuWithAnotherGpu) {
  auto f = two_gpus();
  f.inv.devices[0].boot_vga = false;
  std::find_if(f.inv.devices.begin(), f.inv.devices.end(), [](auto& d) {
    return d.address == addr("0000:01:00.0");
  })->boot_vga = true;
  auto r = run(f);
  ASSERT_TRUE(r.find("boot-gpu", "0000:01:00.0"));
  EXPECT_TRUE(r.find("vbios-needed", "0000:01:00.0"));  // NVIDIA boot GPU ROM is tainted
  EXPECT_EQ(r.report.verdicts[1].status, VerdictStatus::warnings);
  EXPECT_EQ(check_exit_code(r.report), 0);
}

TEST(Rules, ResetBugCoveredByVendorReset) {
  auto f = two_gpus();
  f.add("0000:02:00.0", 0x1002, 0x67df, 0x030000, 3, 0xe7);
  auto r = run(f);
  const Finding* x = r.find("reset-bug", "0000:02:00.0");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->severity, Severity::warning);
  EXPECT_TRUE(mentions(*x, "vendor-reset supports it"));
  EXPECT_TRUE(mentions(*x, "vendor_reset not loaded"));
}

TEST(Rules, ResetBugNotCovered) {
  auto f = two_gpus();
  f.add("0000:02:00.0", 0x1002, 0x744c, 0x030000, 3, 0xc8);
  auto r = run(f);
  const Finding* x = r.find("reset-bug", "0000:02:00.0");
  ASSERT_TRUE(x);
  EXPECT_TRUE(mentions(*x, "vendor-reset does not cover it"));
}

TEST(Rules, Code43AlwaysForFermi) {
  auto f = two_gpus();
  f.add("0000:02:00.0", 0x10de, 0x1080, 0x030000, 3);  // GF110
  auto r = run(f);
  ASSERT_TRUE(r.find("code-43-risk", "0000:02:00.0"));
  EXPECT_EQ(r.find("code-43-risk", "0000:02:00.0")->severity, Severity::warning);
}

TEST(Rules, MuxlessLaptopGpu) {
  auto f = two_gpus();
  f.add("0000:02:00.0", 0x10de, 0x1d10, 0x030200, 3);
  auto r = run(f);
  ASSERT_TRUE(r.find("muxless-laptop-gpu", "0000:02:00.0"));
}

TEST(Rules, ApuVbiosFromVfct) {
  auto f = two_gpus();
  f.add("0000:05:00.0", 0x1002, 0x1638, 0x030000, 5, 0xc8);
  ConfigFacts facts;
  facts.vfct_present = true;
  auto r = run(f, facts);
  const Finding* x = r.find("vbios-needed", "0000:05:00.0");
  ASSERT_TRUE(x);
  EXPECT_TRUE(mentions(*x, "VFCT"));
  EXPECT_TRUE(mentions(*x, "present"));
}

TEST(Rules, SecureBootWithVendorReset) {
  auto f = two_gpus();
  f.inv.system.secure_boot = SecureBoot::enabled;
  f.add("0000:02:00.0", 0x1002, 0x731f, 0x030000, 3);
  auto r = run(f);
  ASSERT_TRUE(r.find("secure-boot-out-of-tree", "0000:02:00.0"));
  EXPECT_FALSE(r.find("secure-boot-out-of-tree", "0000:01:00.0"));  // NVIDIA needs no module
}

TEST(Rules, NativeDriverBoundAndVfio) {
  auto f = two_gpus();
  auto r = run(f);
  ASSERT_TRUE(r.find("native-driver-bound", "0000:01:00.0"));
  EXPECT_TRUE(mentions(*r.find("native-driver-bound", "0000:01:00.0"), "nouveau"));
  auto g = two_gpus();
  std::find_if(g.inv.devices.begin(), g.inv.devices.end(), [](auto& d) {
    return d.address == addr("0000:01:00.0");
  })->driver = "vfio-pci";
  auto r2 = run(g);
  EXPECT_TRUE(r2.find("bound-to-vfio", "0000:01:00.0"));
  EXPECT_FALSE(r2.find("native-driver-bound", "0000:01:00.0"));
}

TEST(Rules, VirqfdOnlyOnNewKernels) {
  auto f = two_gpus();
  ConfigFacts facts;
  facts.vfio_virqfd.push_back(
      {"/etc/mkinitcpio.conf", 7, "MODULES=(vfio_pci vfio vfio_iommu_type1 vfio_virqfd)"});
  auto r = run(f, facts);
  const Finding* x = r.find("vfio-virqfd-removed");
  ASSERT_TRUE(x);
  EXPECT_TRUE(mentions(*x, "/etc/mkinitcpio.conf:7"));
  auto old = two_gpus();
  old.inv.system.kernel = "5.15.0-91-generic";
  EXPECT_FALSE(run(old, facts).find("vfio-virqfd-removed"));
}

TEST(Rules, KernelTooOldForDriverOverride) {
  auto f = two_gpus();
  f.inv.system.kernel = "3.10.0-1160.el7.x86_64";
  EXPECT_TRUE(run(f).find("kernel-too-old"));
  auto current = two_gpus();
  EXPECT_FALSE(run(current).find("kernel-too-old"));
}

TEST(Rules, UnknownGpu) {
  auto f = two_gpus();
  f.add("0000:02:00.0", 0x1002, 0x7fee, 0x030000, 3);
  auto r = run(f);
  ASSERT_TRUE(r.find("unknown-gpu", "0000:02:00.0"));
  EXPECT_TRUE(r.find("reset-unknown", "0000:02:00.0"));
}

TEST(Rules, OnlyRestrictsToOneGpu) {
  auto f = two_gpus();
  auto r = run(f, {}, addr("0000:01:00.0"));
  ASSERT_EQ(r.report.verdicts.size(), 1u);
  for (const auto& x : r.report.findings) EXPECT_NE(x.subject, "0000:00:02.0");
}

TEST(Rules, JsonShape) {
  auto f = two_gpus();
  auto j = report_to_json(run(f).report);
  EXPECT_EQ(j["schema_version"], 1);
  ASSERT_TRUE(j["verdicts"].is_array());
  EXPECT_EQ(j["verdicts"][0]["gpu"], "0000:00:02.0");
  for (const auto& x : j["findings"]) {
    for (auto k : {"id", "severity", "subject", "message", "evidence", "fix"})
      EXPECT_TRUE(x.contains(k)) << k;
  }
}

TEST(Rules, CompanionInItsOwnGroup) {
  auto f = two_gpus();
  f.add("0000:02:00.0", 0x1002, 0x73df, 0x030000, 3, 0xc1);
  f.add("0000:02:00.1", 0x1002, 0xab28, 0x040300, 4);
  auto r = run(f);
  ASSERT_TRUE(r.find("companion-own-group", "0000:02:00.0"));
  EXPECT_FALSE(r.find("companion-group-shared"));
  f.add("0000:00:1f.3", 0x8086, 0xa348, 0x040300, 4);  // host audio joins that group
  auto r2 = run(f);
  ASSERT_TRUE(r2.find("companion-group-shared", "0000:02:00.0"));
  EXPECT_TRUE(mentions(*r2.find("companion-group-shared"), "0000:00:1f.3"));
}

TEST(Rules, OnlyGpuOnProxmoxIsAWarning) {
  FakeInventory f;
  f.inv.system.kernel = "6.8.12-4-pve";
  f.add("0000:09:00.0", 0x1002, 0x7300, 0x030000, 1, 0xca);
  auto r = run(f);
  ASSERT_TRUE(r.find("only-gpu"));
  EXPECT_EQ(r.find("only-gpu")->severity, Severity::warning);
  EXPECT_TRUE(mentions(*r.find("only-gpu"), "Proxmox"));
  EXPECT_EQ(check_exit_code(r.report), 0);
}

TEST(Rules, AcsOverrideActive) {
  auto f = two_gpus();
  f.inv.system.iommu.cmdline = {"iommu=pt", "pcie_acs_override=downstream,multifunction"};
  auto r = run(f);
  ASSERT_TRUE(r.find("acs-override-active"));
  EXPECT_EQ(r.find("acs-override-active")->severity, Severity::warning);
  auto plain = two_gpus();
  EXPECT_FALSE(run(plain).find("acs-override-active"));
}
