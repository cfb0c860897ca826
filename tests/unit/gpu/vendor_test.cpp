// Vendor handlers, one GPU per generation the issue names.
#include <gtest/gtest.h>

#include <algorithm>

#include "gpu/vendor/handler.h"
#include "unit/gpu/fake_inventory.h"

using namespace exliar;
using namespace exliar::gpu;
using namespace exliar::testing;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

struct Card {
  FakeInventory f;
  GpuInfo g;
  Card(std::uint16_t vendor, std::uint16_t device, std::uint8_t rev = 0, bool boot_vga = false,
       const char* a = "0000:01:00.0") {
    f.add("0000:00:02.0", 0x8086, 0x3e92, 0x030000, 0);  // a host GPU
    auto& d = f.add(a, vendor, device, 0x030000, 1, rev);
    d.boot_vga = boot_vga;
    std::string audio = std::string(a).substr(0, 10) + ".1";
    if (std::string(a) != "0000:00:02.0") f.add(audio.c_str(), vendor, 0xaaaa, 0x040300, 1);
    g = classify_one(f, a);
  }
  const VendorHandler& h() const { return handler_for(g); }
};

}  // namespace

TEST(AmdHandler, PolarisNeedsVendorReset) {
  Card c(0x1002, 0x67df, 0xe7);  // RX 580
  EXPECT_STREQ(c.h().name(), "amd");
  auto p = c.h().prepare(c.g, c.f.inv);
  EXPECT_TRUE(has(p.softdep_drivers, "amdgpu"));
  EXPECT_TRUE(has(p.softdep_drivers, "snd_hda_intel"));
  EXPECT_TRUE(has(p.early_modules, "vendor-reset"));
  EXPECT_TRUE(has(p.out_of_tree_modules, "vendor-reset"));
  ASSERT_EQ(p.reset_methods.size(), 1u);
  EXPECT_EQ(p.reset_methods[0].method, "device_specific");
  auto checks = c.h().post_checks(c.g);
  EXPECT_TRUE(
      std::any_of(checks.begin(), checks.end(), [](auto& x) { return x.id == "reset-method"; }));
  EXPECT_FALSE(c.h().vm_snippets(c.g).hide_kvm);
}

TEST(AmdHandler, VegaAndNavi1xUseVendorReset) {
  for (std::uint16_t id : {0x687f, 0x66af, 0x731f, 0x7340}) {
    Card c(0x1002, id);
    EXPECT_TRUE(c.g.caps.vendor_reset_supported) << std::hex << id;
    EXPECT_TRUE(has(c.h().prepare(c.g, c.f.inv).early_modules, "vendor-reset")) << std::hex << id;
  }
}

TEST(AmdHandler, Navi2xResetsWithoutHelp) {
  Card c(0x1002, 0x73bf);  // RX 6800 XT
  EXPECT_EQ(c.g.architecture, "RDNA2");
  EXPECT_EQ(c.g.caps.has_reset_bug, false);
  auto p = c.h().prepare(c.g, c.f.inv);
  EXPECT_TRUE(p.early_modules.empty());
  EXPECT_TRUE(p.reset_methods.empty());
  Card mixed(0x1002, 0x73ff);  // Navi 23: mixed reports, so unknown
  EXPECT_FALSE(mixed.g.caps.has_reset_bug.has_value());
}

TEST(AmdHandler, Navi3xHasTheBugAndNoVendorReset) {
  Card c(0x1002, 0x744c);  // RX 7900 XTX
  EXPECT_EQ(c.g.architecture, "RDNA3");
  EXPECT_EQ(c.g.caps.has_reset_bug, true);
  EXPECT_FALSE(c.g.caps.vendor_reset_supported);
  EXPECT_TRUE(c.h().prepare(c.g, c.f.inv).early_modules.empty());
}

// Code 43 (issue 17, audit W1/W2): GeForce drivers before R465 only; vm-xml hides KVM
// only when asked (--legacy-nvidia-driver) or when every driver predates R465.
TEST(NvidiaHandler, Code43SnippetsOnlyWhenAskedForGeForce) {
  for (auto [id, arch] : {std::pair{0x1184, "Kepler"}, std::pair{0x1b80, "Pascal"},
                          std::pair{0x1e87, "Turing"}, std::pair{0x2204, "Ampere"}}) {
    Card c(0x10de, static_cast<std::uint16_t>(id));
    EXPECT_STREQ(c.h().name(), "nvidia");
    EXPECT_EQ(c.g.architecture, arch);
    EXPECT_EQ(c.g.caps.code43, Code43::legacy_drivers) << arch;
    EXPECT_FALSE(c.h().vm_snippets(c.g).hide_kvm) << arch;
    VmSnippetOptions legacy;
    legacy.legacy_nvidia_driver = true;
    auto s = c.h().vm_snippets(c.g, legacy);
    EXPECT_TRUE(s.hide_kvm) << arch;
    ASSERT_TRUE(s.hyperv_vendor_id) << arch;
    EXPECT_LE(s.hyperv_vendor_id->size(), 12u);
    EXPECT_TRUE(s.ioapic_kvm);
    auto p = c.h().prepare(c.g, c.f.inv);
    EXPECT_TRUE(has(p.softdep_drivers, "nouveau"));
    EXPECT_TRUE(has(p.softdep_drivers, "nvidia"));
    EXPECT_TRUE(p.early_modules.empty());
  }
}

TEST(NvidiaHandler, ProAndDatacenterPartsNeverHideKvm) {
  VmSnippetOptions legacy;
  legacy.legacy_nvidia_driver = true;
  // T4 (exact entry), RTX A6000 and Quadro P4000 (pro IDs inside GeForce chip ranges),
  // A100 and H100 (datacenter chips), RTX 4090 (no pre-R465 driver exists).
  for (std::uint16_t id : {0x1eb8, 0x2230, 0x1bb1, 0x20b0, 0x2330, 0x2684}) {
    Card c(0x10de, id);
    EXPECT_EQ(c.g.caps.code43, Code43::none) << std::hex << id;
    EXPECT_FALSE(c.h().vm_snippets(c.g, legacy).hide_kvm) << std::hex << id;
  }
}

TEST(NvidiaHandler, LegacyGenerationsAlwaysHideKvmUnknownOnlyWhenAsked) {
  Card fermi(0x10de, 0x1080);  // GTX 580
  EXPECT_EQ(fermi.g.caps.code43, Code43::all_drivers);
  EXPECT_TRUE(fermi.h().vm_snippets(fermi.g).hide_kvm);
  Card unknown(0x10de, 0x3400);  // in no entry
  EXPECT_FALSE(unknown.g.known);
  EXPECT_EQ(unknown.g.caps.code43, Code43::unknown);
  EXPECT_FALSE(unknown.h().vm_snippets(unknown.g).hide_kvm);
  VmSnippetOptions legacy;
  legacy.legacy_nvidia_driver = true;
  EXPECT_TRUE(unknown.h().vm_snippets(unknown.g, legacy).hide_kvm);
  Card igp(0x10de, 0x053e);  // C68 GeForce 7025 IGP: pre-Tesla, not Tesla (audit W6)
  EXPECT_EQ(igp.g.architecture, "pre-Tesla");
  EXPECT_TRUE(igp.g.gpu.integrated);
}

// Audit W3: the T4 no-bus-reset quirk was reverted; W4/W5: QEMU's Bonaire/Hawaii reset.
TEST(ResetFacts, AuditedRows) {
  Card t4(0x10de, 0x1eb8);
  EXPECT_FALSE(t4.g.caps.reset_method.has_value());
  EXPECT_FALSE(t4.g.caps.supports_reset.has_value());
  for (std::uint16_t id : {0x6658, 0x665c, 0x67b0, 0x67b1, 0x67be}) {
    Card c(0x1002, id);
    EXPECT_EQ(c.g.caps.has_reset_bug, true) << std::hex << id;
    EXPECT_TRUE(c.g.caps.qemu_reset_quirk) << std::hex << id;
    EXPECT_NE(c.g.caps.reset_method, std::optional<std::string>("bus")) << std::hex << id;
  }
  Card mobile(0x1002, 0x6640);  // Bonaire, not in QEMU's list
  EXPECT_EQ(mobile.g.caps.has_reset_bug, true);
  EXPECT_FALSE(mobile.g.caps.qemu_reset_quirk);
  for (std::uint16_t id : {0x6798, 0x7300, 0x6939}) {  // Tahiti, Fiji, Tonga: unknown (D1)
    Card c(0x1002, id);
    EXPECT_FALSE(c.g.caps.has_reset_bug.has_value()) << std::hex << id;
    EXPECT_FALSE(c.g.caps.reset_method.has_value()) << std::hex << id;
  }
  Card gt1030(0x10de, 0x1d01);  // D2: no source for "resets fine"
  EXPECT_FALSE(gt1030.g.caps.supports_reset.has_value());
  EXPECT_FALSE(gt1030.g.caps.has_reset_bug.has_value());
  Card thames(0x1002, 0x6841);  // D12
  EXPECT_EQ(thames.g.codename, "Thames");
}

TEST(NvidiaHandler, TuringUsbAndUcsiDriversAreSoftdepped) {
  FakeInventory f;
  f.add("0000:00:02.0", 0x8086, 0x3e92, 0x030000, 0);
  f.add("0000:01:00.0", 0x10de, 0x1e87, 0x030000, 1);
  f.add("0000:01:00.2", 0x10de, 0x1ad8, 0x0c0330, 1);
  f.add("0000:01:00.3", 0x10de, 0x1ad9, 0x0c8000, 1);
  auto g = classify_one(f, "0000:01:00.0");
  auto p = handler_for(g).prepare(g, f.inv);
  EXPECT_TRUE(has(p.softdep_drivers, "xhci_pci"));
  EXPECT_TRUE(has(p.softdep_drivers, "i2c_nvidia_gpu"));
  EXPECT_EQ(handler_for(g).post_checks(g).size(), 3u);  // one per function
}

TEST(Quirks, FramebufferParamsOnlyForTheBootGpu) {
  Card secondary(0x10de, 0x1d01);
  EXPECT_TRUE(secondary.h().apply_quirks(secondary.g, secondary.f.inv).empty());
  Card boot(0x10de, 0x1d01, 0xa1, true);
  auto q = boot.h().apply_quirks(boot.g, boot.f.inv);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].param, "initcall_blacklist=sysfb_init");
  boot.f.inv.system.kernel = "5.10.0-28-amd64";
  q = boot.h().apply_quirks(boot.g, boot.f.inv);
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q[0].param, "video=efifb:off");
}

TEST(IntelHandler, GvtEraIgpu) {
  FakeInventory f;
  f.add("0000:00:02.0", 0x8086, 0x3e92, 0x030000, 0);  // UHD 630
  f.add("0000:01:00.0", 0x10de, 0x1d01, 0x030000, 1);
  auto g = classify_one(f, "0000:00:02.0");
  EXPECT_STREQ(handler_for(g).name(), "intel");
  EXPECT_TRUE(g.gpu.integrated);
  EXPECT_TRUE(g.caps.supports_gvt);
  auto p = handler_for(g).prepare(g, f.inv);
  EXPECT_TRUE(has(p.softdep_drivers, "i915"));
  EXPECT_TRUE(std::any_of(p.notes.begin(), p.notes.end(),
                          [](auto& n) { return n.find("GVT-g") != std::string::npos; }));
  EXPECT_FALSE(handler_for(g).vm_snippets(g).hide_kvm);  // never hide KVM from Intel guests
}

TEST(IntelHandler, XeIgpuHasNoGvt) {
  FakeInventory f;
  f.add("0000:00:02.0", 0x8086, 0x4680, 0x030000, 0);  // Alder Lake-S
  auto g = classify_one(f, "0000:00:02.0");
  EXPECT_EQ(g.architecture, "Xe-LP");
  EXPECT_FALSE(g.caps.supports_gvt);
  EXPECT_FALSE(g.caps.supports_sriov.has_value());  // out-of-tree only: unknown, not "yes"
  EXPECT_TRUE(has(handler_for(g).prepare(g, f.inv).softdep_drivers, "xe"));
}

TEST(IntelHandler, ArcIsDiscrete) {
  Card c(0x8086, 0x56a0);  // Arc A770
  EXPECT_FALSE(c.g.gpu.integrated);
  EXPECT_EQ(c.g.architecture, "Xe-HPG");
  auto p = c.h().prepare(c.g, c.f.inv);
  EXPECT_TRUE(has(p.softdep_drivers, "i915"));
  EXPECT_TRUE(has(p.softdep_drivers, "xe"));
  Card b(0x8086, 0xe20b);  // B580
  EXPECT_EQ(b.g.generation, "Arc B");
  EXPECT_EQ(b.g.caps.drivers, std::vector<std::string>{"xe"});
}

TEST(GenericHandler, OtherVendors) {
  Card c(0x1ed5, 0x0100);
  EXPECT_STREQ(c.h().name(), "generic");
  EXPECT_FALSE(c.g.known);
}
