// `exliar test`'s interpretation on recorded results: config space read back after a
// reset, the reset offers, the ROM, the BARs and the Resizable BAR capability (read from
// the real config space of an R9 Fury Nano), and the stored record `check` reads back.
#include "analyze/selftest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "unit/gpu/vbios_builders.h"

namespace exliar {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A type 0 header of 1002:67df with two capabilities (PM at 0x50 -> PCIe at 0x58) and
// BAR0 64-bit prefetchable memory, BAR2 32-bit memory, BAR4 I/O.
Bytes config_of(std::uint16_t vendor = 0x1002, std::uint16_t device = 0x67df) {
  Bytes c(256, 0);
  testing::put16(c, 0, vendor);
  testing::put16(c, 2, device);
  testing::put16(c, 4, 0x0007);
  testing::put16(c, 6, 0x0010);  // capability list present
  testing::put32(c, 8, 0x030000e7);
  testing::put32(c, 0x10, 0x0000000c);
  testing::put32(c, 0x18, 0x00000000);
  testing::put32(c, 0x20, 0x00000001);
  c[0x34] = 0x50;
  c[0x50] = 0x01, c[0x51] = 0x58;
  c[0x58] = 0x10, c[0x59] = 0x00;
  return c;
}

VfioMeasurement measurement(ResetKind kind, int resets) {
  VfioMeasurement m;
  m.address = *parse_pci_address("0000:01:00.0");
  m.vendor_id = 0x1002;
  m.device_id = 0x67df;
  m.group = 12;
  m.reset_methods = "flr bus";
  m.reset_kind = kind;
  m.config_before = config_of();
  for (int i = 0; i < resets; ++i) m.resets.push_back({true, "", 10.0 + i, config_of()});
  m.regions = {{0, 7, 256u << 20}, {2, 7, 256u << 10}, {4, 3, 256}, {6, 1, 128u << 10}};
  testing::ImageSpec legacy{.vendor = 0x1002, .device = 0x67df, .last = false};
  testing::ImageSpec efi{.vendor = 0x1002, .device = 0x67df, .code_type = 3};
  auto a = testing::make_image(legacy), b = testing::make_image(efi);
  m.rom = a;
  m.rom.insert(m.rom.end(), b.begin(), b.end());
  m.rom_source = "vfio";
  m.measured_at = "2026-12-03T10:00:00Z";
  return m;
}

const TestItem* item(const TestReport& r, std::string_view id) {
  for (const auto& it : r.items)
    if (it.id == id) return &it;
  return nullptr;
}

TEST(Selftest, HealthyGpuPasses) {
  auto r = interpret(measurement(ResetKind::function, 3), 3);
  EXPECT_EQ(r.verdict, TestState::ok);
  EXPECT_EQ(r.resets_ok, 3);
  ASSERT_TRUE(r.reset_survives);
  EXPECT_TRUE(*r.reset_survives);
  ASSERT_NE(item(r, "rom"), nullptr);
  EXPECT_EQ(item(r, "rom")->state, TestState::ok);
  ASSERT_EQ(r.bars.size(), 3u);
  EXPECT_TRUE(r.bars[0].mem64);
  EXPECT_TRUE(r.bars[0].prefetchable);
  EXPECT_FALSE(r.bars[1].mem64);
  EXPECT_TRUE(r.bars[2].io);
}

TEST(Selftest, AllOnesAfterResetIsAFailureWithTheWayOut) {
  auto m = measurement(ResetKind::function, 3);
  m.resets[1].config.assign(256, 0xFF);
  auto r = interpret(m, 3);
  EXPECT_EQ(r.verdict, TestState::fail);
  ASSERT_TRUE(r.reset_survives);
  EXPECT_FALSE(*r.reset_survives);
  const auto* it = item(r, "resets");
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(it->title, "This GPU does not survive a reset here");
  ASSERT_TRUE(it->next);
  EXPECT_NE(it->next->find("suspend"), std::string::npos);
  EXPECT_NE(it->next->find("vendor-reset"), std::string::npos);
  bool named = false;
  for (const auto& d : it->details)
    named = named || d.find("after reset 2: config space reads all ones") == 0;
  EXPECT_TRUE(named);
}

TEST(Selftest, FailedIoctlStopsAndFails) {
  auto m = measurement(ResetKind::hot, 1);
  m.resets[0] = {false, "Device or resource busy", 0.1, config_of()};
  auto r = interpret(m, 3);
  EXPECT_EQ(r.verdict, TestState::fail);
  EXPECT_EQ(r.resets_ok, 0);
}

TEST(Selftest, NoResetOfferedIsAWarningNotAMeasurement) {
  auto m = measurement(ResetKind::none, 0);
  m.reset_methods = "";
  m.hot_reset_groups = {12, 13};
  auto r = interpret(m, 3);
  EXPECT_EQ(r.verdict, TestState::warn);
  EXPECT_FALSE(r.reset_survives);
  EXPECT_EQ(item(r, "resets"), nullptr);
  const auto* it = item(r, "reset-support");
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(it->state, TestState::warn);
  EXPECT_EQ(it->details[0], "sysfs reset_method: (none)");
  EXPECT_NE(it->details[1].find("12, 13"), std::string::npos);
}

TEST(Selftest, RomWithoutEfiImageWarnsForOvmf) {
  auto m = measurement(ResetKind::function, 3);
  m.rom = testing::make_image({.vendor = 0x1002, .device = 0x67df});
  auto r = interpret(m, 3);
  EXPECT_EQ(r.verdict, TestState::warn);
  EXPECT_EQ(item(r, "rom")->title, "The ROM has no EFI (GOP) image");
}

TEST(Selftest, RomOfAnotherDeviceAndNoRom) {
  auto m = measurement(ResetKind::function, 3);
  m.rom = testing::make_image({.vendor = 0x10de, .device = 0x1b80});
  auto r = interpret(m, 3);
  EXPECT_EQ(item(r, "rom")->title, "The ROM has problems");
  m.rom.clear();
  m.rom_source.clear();
  m.rom_note = "the device has no ROM BAR";
  r = interpret(m, 3);
  EXPECT_EQ(item(r, "rom")->title, "No ROM could be read");
}

TEST(Selftest, ConfigProblems) {
  auto before = config_of();
  EXPECT_TRUE(config_problems(before, before, 0x1002, 0x67df).empty());
  auto other = config_of(0x1002, 0x6fdf);
  EXPECT_EQ(config_problems(before, other, 0x1002, 0x67df).size(), 1u);
  auto lost = config_of();
  lost[0x51] = 0;  // the PCIe capability is gone
  auto p = config_problems(before, lost, 0x1002, 0x67df);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("capability list changed"), std::string::npos);
  auto loop = config_of();
  loop[0x59] = 0x50;  // 0x58 points back to 0x50
  EXPECT_FALSE(capability_ids(loop));
  EXPECT_EQ(config_problems(before, Bytes(32, 0), 0x1002, 0x67df).size(), 1u);
}

Bytes read_config(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return Bytes(s.begin(), s.end());
}

TEST(Selftest, ResizableBarOfARealFiji) {
  // The fixture machine's config space is a real `lspci -xxxx` dump (tests/machines).
  auto c = read_config(EXLIAR_BINARY_DIR
                       "/machines/fiji-proxmox/sys/devices/pci0000:00/0000:00:1d.0/0000:09:00.0/"
                       "config");
  ASSERT_EQ(c.size(), 4096u);
  auto rb = parse_rebar(c);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0].bar, 0u);
  EXPECT_EQ(rb[0].current, std::uint64_t(256) << 20);
  std::vector<std::uint64_t> want;
  for (int mb = 256; mb <= 4096; mb *= 2) want.push_back(std::uint64_t(mb) << 20);
  EXPECT_EQ(rb[0].supported, want);
  EXPECT_TRUE(parse_rebar(config_of()).empty());
}

TEST(Selftest, LargeBarsNeedABiggerOvmfWindow) {
  auto m = measurement(ResetKind::function, 3);
  m.regions[0].size = std::uint64_t(64) << 30;
  auto r = interpret(m, 3);
  const auto* it = item(r, "bars");
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(it->state, TestState::warn);
  EXPECT_NE(it->next->find("X-PciMmio64Mb"), std::string::npos);
}

TEST(Selftest, RecordRoundTripAndBadRecords) {
  auto r = interpret(measurement(ResetKind::function, 3), 3);
  auto rec = parse_test_record(test_report_json(r).dump(), "/var/lib/exliar/tests/x.json");
  ASSERT_TRUE(rec) << rec.error().describe();
  EXPECT_EQ(rec->address, "0000:01:00.0");
  EXPECT_EQ(rec->survives, true);
  EXPECT_EQ(rec->resets, 3);
  EXPECT_EQ(rec->reset_kind, "function");
  for (std::string bad : {"", "[]", R"({"schema_version": 4294967297})",
                          R"({"schema_version": 1, "address": "nope"})",
                          R"({"schema_version": 1, "address": "0000:01:00.0", "measured_at": "x",
                              "reset": {"kind": "function", "survives": "yes", "ok": 1}})"}) {
    auto e = parse_test_record(bad, "/var/lib/exliar/tests/x.json");
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().path, "/var/lib/exliar/tests/x.json");
  }
}

TEST(Selftest, FormatSize) {
  EXPECT_EQ(format_size(256), "256 bytes");
  EXPECT_EQ(format_size(16384), "16 KiB");
  EXPECT_EQ(format_size(std::uint64_t(16) << 30), "16 GiB");
}

}  // namespace
}  // namespace exliar
