#include <gtest/gtest.h>

#include "unit/gpu/fake_inventory.h"

using namespace exliar;
using namespace exliar::gpu;
using namespace exliar::testing;

TEST(Classify, CompanionsAreAttachedNotCounted) {
  FakeInventory f;
  f.add("0000:00:01.0", 0x1022, 0x1633, 0x060400, 1);
  f.add("0000:01:00.0", 0x10de, 0x1e87, 0x030000, 2, 0xa1, "0000:00:01.0");  // TU104
  f.add("0000:01:00.1", 0x10de, 0x10f8, 0x040300, 2);
  f.add("0000:01:00.2", 0x10de, 0x1ad8, 0x0c0330, 2);
  f.add("0000:01:00.3", 0x10de, 0x1ad9, 0x0c8000, 2);
  auto all = classify(f.done(), shipped_db());
  ASSERT_EQ(all.size(), 1u);
  const auto& g = all[0];
  EXPECT_TRUE(g.known);
  EXPECT_EQ(g.architecture, "Turing");
  ASSERT_EQ(g.companions.size(), 3u);
  EXPECT_EQ(g.companions[0].kind, CompanionKind::audio);
  EXPECT_EQ(g.companions[1].kind, CompanionKind::usb);
  EXPECT_EQ(g.companions[2].kind, CompanionKind::ucsi);
  EXPECT_EQ(g.gpu.isolation, Isolation::isolated);
  EXPECT_EQ(g.vm_functions().size(), 4u);
}

TEST(Classify, DisplayClassesAndAmdAccelerators) {
  FakeInventory f;
  f.add("0000:00:02.0", 0x8086, 0x3e92, 0x030000, 0);
  f.add("0000:02:00.0", 0x10de, 0x1d10, 0x030200, 1);  // 3D controller: muxless
  f.add("0000:03:00.0", 0x1002, 0x740c, 0x038000, 2);  // display controller
  f.add("0000:04:00.0", 0x1002, 0x74a1, 0x120000, 3);  // processing accelerator
  f.add("0000:05:00.0", 0x15b7, 0x5009, 0x010802, 4);  // NVMe: never a GPU
  auto all = classify(f.done(), shipped_db());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].gpu.address, addr("0000:02:00.0"));
  EXPECT_TRUE(all[1].muxless);
  EXPECT_FALSE(all[0].muxless);
  EXPECT_EQ(all[2].architecture, "CDNA2");
  EXPECT_EQ(all[3].gpu.address, addr("0000:04:00.0"));
  EXPECT_EQ(all[3].architecture, "CDNA3");
  EXPECT_EQ(all[3].gpu.isolation, Isolation::isolated);
}

TEST(Classify, UnknownIdIsHonest) {
  FakeInventory f;
  f.add("0000:01:00.0", 0x1002, 0x7fee, 0x030000, 1);
  f.add("0000:02:00.0", 0x1ed5, 0x0100, 0x030000, 2);
  auto all = classify(f.done(), shipped_db());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0].known);
  EXPECT_EQ(all[0].match, MatchKind::vendor_default);
  EXPECT_EQ(all[0].name, "unknown AMD/ATI GPU [1002:7fee]");
  EXPECT_TRUE(all[0].architecture.empty());
  EXPECT_FALSE(all[0].caps.has_reset_bug.has_value());
  EXPECT_EQ(all[1].name, "unknown Moore Threads GPU [1ed5:0100]");
}

TEST(Classify, ApuIsIntegratedFromTheDatabase) {
  FakeInventory f;
  f.add("0000:05:00.0", 0x1002, 0x1638, 0x030000, 5, 0xc8);
  f.add("0000:05:00.1", 0x1002, 0x1637, 0x040300, 6);
  f.add("0000:05:00.2", 0x1022, 0x15df, 0x108000, 7);  // PSP
  f.add("0000:05:00.3", 0x1022, 0x1639, 0x0c0330, 8);  // the CPU's USB controller
  f.add("0000:05:00.6", 0x1022, 0x15e3, 0x040300, 9);  // the board's audio
  auto g = classify_one(f, "0000:05:00.0");
  EXPECT_TRUE(g.gpu.integrated);  // probe alone says discrete (not Intel 00:02.0)
  EXPECT_EQ(g.caps.vbios_needed, VbiosNeed::always);
  ASSERT_EQ(g.companions.size(), 1u);  // the GPU's HDMI audio only, though in its own group
  EXPECT_EQ(g.companions[0].address, addr("0000:05:00.1"));
}

TEST(Classify, NaviBehindItsOwnSwitch) {
  // asus-z690 capture: 00:01.0 root port -> 01:00.0 upstream (1002:1478) -> 02:00.0
  // downstream (1002:1479) -> 03:00.0 Navi 22.
  FakeInventory f;
  f.add("0000:00:01.0", 0x8086, 0x460d, 0x060400, 1);
  f.add("0000:01:00.0", 0x1002, 0x1478, 0x060400, 1, 0xc1, "0000:00:01.0");
  f.add("0000:02:00.0", 0x1002, 0x1479, 0x060400, 1, std::nullopt, "0000:01:00.0");
  f.add("0000:03:00.0", 0x1002, 0x73df, 0x030000, 1, 0xc1, "0000:02:00.0");
  f.add("0000:03:00.1", 0x1002, 0xab28, 0x040300, 1, std::nullopt, "0000:02:00.0");
  auto g = classify_one(f, "0000:03:00.0");
  ASSERT_TRUE(g.switch_upstream);
  EXPECT_EQ(*g.switch_upstream, addr("0000:01:00.0"));
  EXPECT_EQ(g.gpu.isolation, Isolation::isolated);
  EXPECT_EQ(g.companions.size(), 1u);
}

TEST(Classify, ArcAudioOnAnotherSwitchPort) {
  FakeInventory f;
  f.add("0000:00:01.0", 0x8086, 0x460d, 0x060400, 1);
  f.add("0000:01:00.0", 0x8086, 0x4fa1, 0x060400, 1, std::nullopt, "0000:00:01.0");
  f.add("0000:02:01.0", 0x8086, 0x4fa4, 0x060400, 1, std::nullopt, "0000:01:00.0");
  f.add("0000:02:04.0", 0x8086, 0x4fa4, 0x060400, 1, std::nullopt, "0000:01:00.0");
  f.add("0000:03:00.0", 0x8086, 0x56a6, 0x030000, 1, 0x05, "0000:02:01.0");
  f.add("0000:04:00.0", 0x8086, 0x4f92, 0x040300, 1, std::nullopt, "0000:02:04.0");
  auto g = classify_one(f, "0000:03:00.0");
  EXPECT_EQ(g.generation, "Arc A");
  EXPECT_FALSE(g.gpu.integrated);
  ASSERT_EQ(g.companions.size(), 1u);
  EXPECT_EQ(g.companions[0].address, addr("0000:04:00.0"));
  EXPECT_FALSE(g.companions[0].same_slot);
  EXPECT_EQ(g.gpu.isolation, Isolation::isolated);  // the audio is not an outsider
}

TEST(Classify, BmcVideoIsNotATarget) {
  FakeInventory f;
  f.add("0000:02:00.0", 0x1a03, 0x2000, 0x030000, 1);
  auto g = classify_one(f, "0000:02:00.0");
  EXPECT_EQ(g.role, "bmc");
  EXPECT_FALSE(g.passthrough_target());
}
