// parse_rom / strip_rom_header / parse_vfct on synthetic images.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "gpu/vbios.h"
#include "unit/gpu/vbios_builders.h"

namespace exliar {
namespace {

using testing::concat;
using testing::ImageSpec;
using testing::make_image;
using testing::Rom;

RomInfo parse_ok(const Rom& r) {
  auto info = parse_rom(r);
  EXPECT_TRUE(info.has_value()) << (info ? "" : info.error().message);
  return info ? *info : RomInfo{};
}

std::string all_problems(const RomInfo& i) {
  std::string s;
  for (const auto& p : i.problems) s += p + "\n";
  return s;
}

TEST(VbiosParse, LegacyOnly) {
  auto info = parse_ok(make_image({}));
  ASSERT_EQ(info.images.size(), 1u);
  const auto& img = info.images[0];
  EXPECT_EQ(img.offset, 0u);
  EXPECT_EQ(img.length, 1024u);
  EXPECT_EQ(img.vendor_id, 0x10de);
  EXPECT_EQ(img.device_id, 0x1d01);
  EXPECT_EQ(img.class_code, 0x030000u);
  EXPECT_EQ(img.code_type, RomCodeType::x86);
  EXPECT_TRUE(img.last);
  EXPECT_EQ(img.checksum_ok, std::optional<bool>(true));
  EXPECT_EQ(info.header_size, 0u);
  EXPECT_TRUE(info.usable()) << all_problems(info);
  EXPECT_TRUE(info.has_legacy());
  EXPECT_FALSE(info.has_efi());
  EXPECT_EQ(info.end, 1024u);
}

TEST(VbiosParse, LegacyPlusEfi) {
  auto info = parse_ok(testing::legacy_efi_rom());
  ASSERT_EQ(info.images.size(), 2u);
  EXPECT_FALSE(info.images[0].last);
  EXPECT_EQ(info.images[1].offset, 2048u);
  EXPECT_EQ(info.images[1].code_type, RomCodeType::efi);
  ASSERT_TRUE(info.images[1].efi);
  EXPECT_EQ(info.images[1].efi->machine, 0x8664);
  EXPECT_EQ(info.images[1].efi->subsystem, 11);
  EXPECT_TRUE(info.images[1].efi->pe_found);
  EXPECT_FALSE(info.images[1].checksum_ok.has_value());
  EXPECT_TRUE(info.has_efi());
  EXPECT_TRUE(info.usable()) << all_problems(info);
  EXPECT_EQ(info.end, 3072u);
}

TEST(VbiosParse, NvidiaHeaderIsFoundAndStripped) {
  Rom rom = testing::legacy_efi_rom();
  Rom dumped = concat({testing::nvidia_header(0x600), rom});
  auto info = parse_ok(dumped);
  EXPECT_EQ(info.header_size, 0x600u);
  ASSERT_EQ(info.images.size(), 2u);
  EXPECT_EQ(info.images[0].offset, 0x600u);
  EXPECT_FALSE(info.usable());
  EXPECT_NE(all_problems(info).find("vbios patch"), std::string::npos);
  auto stripped = strip_rom_header(dumped);
  ASSERT_TRUE(stripped) << stripped.error().message;
  EXPECT_EQ(*stripped, rom);
  EXPECT_TRUE(parse_ok(*stripped).usable());
}

TEST(VbiosParse, TrailingBytesAreKeptByStrip) {
  Rom rom = concat({make_image({}), Rom(512, 0xFF)});
  auto info = parse_ok(rom);
  EXPECT_TRUE(info.usable());
  EXPECT_EQ(info.end, 1024u);
  auto s = strip_rom_header(concat({testing::nvidia_header(100), rom}));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, rom);
}

TEST(VbiosParse, BadChecksum) {
  ImageSpec s;
  s.fix_checksum = false;
  auto info = parse_ok(make_image(s));
  ASSERT_EQ(info.images.size(), 1u);
  EXPECT_EQ(info.images[0].checksum_ok, std::optional<bool>(false));
  EXPECT_FALSE(info.usable());
  EXPECT_NE(all_problems(info).find("bad checksum"), std::string::npos);
  EXPECT_FALSE(strip_rom_header(make_image(s)));
}

TEST(VbiosParse, TruncatedPcir) {
  // The PCIR pointer leads past the end of the file.
  Rom r = make_image({});
  r.resize(0x48);
  auto info = parse_rom(r);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("truncated"), std::string::npos) << info.error().message;
  EXPECT_NE(info.error().message.find("PCIR"), std::string::npos);
}

TEST(VbiosParse, WrongVendor) {
  auto info = parse_ok(testing::legacy_efi_rom(0x1002, 0x73bf));
  EXPECT_TRUE(info.usable());
  auto p = rom_id_problems(info, 0x10de, 0x1d01);
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("vendor 1002"), std::string::npos) << p[0];
  EXPECT_TRUE(rom_id_problems(info, 0x1002, 0x73bf).empty());
}

TEST(VbiosParse, WrongDeviceAndDeviceList) {
  auto info = parse_ok(make_image({}));
  auto p = rom_id_problems(info, 0x10de, 0x2204);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("10de:2204"), std::string::npos);
  ImageSpec s;
  s.device_list = {0x2204, 0x2206};
  auto with_list = parse_ok(make_image(s));
  EXPECT_EQ(with_list.images[0].device_list, (std::vector<std::uint16_t>{0x2204, 0x2206}));
  EXPECT_TRUE(rom_id_problems(with_list, 0x10de, 0x2206).empty());
}

TEST(VbiosParse, ImageLengthPastTheEnd) {
  ImageSpec s;
  s.length_override = 64;  // claims 32 KiB, holds 1 KiB
  auto info = parse_ok(make_image(s));
  EXPECT_FALSE(info.usable());
  EXPECT_NE(all_problems(info).find("truncated"), std::string::npos) << all_problems(info);
}

TEST(VbiosParse, BadEfiSignature) {
  ImageSpec a;
  a.last = false;
  ImageSpec b;
  b.code_type = 3;
  b.efi_signature = 0x1234;
  auto info = parse_ok(concat({make_image(a), make_image(b)}));
  EXPECT_FALSE(info.usable());
  EXPECT_FALSE(info.has_efi());
  EXPECT_NE(all_problems(info).find("EFI signature"), std::string::npos);
}

TEST(VbiosParse, MissingLastFlagIsANote) {
  ImageSpec a;
  a.last = false;
  auto info = parse_ok(make_image(a));
  EXPECT_TRUE(info.usable());
  ASSERT_FALSE(info.notes.empty());
  EXPECT_NE(info.notes[0].find("not marked as the last"), std::string::npos);
}

TEST(VbiosParse, SecondImageWithBrokenPcir) {
  ImageSpec a;
  a.last = false;
  Rom second = make_image({});
  second[0x40] = 'X';  // PCIR signature destroyed
  auto info = parse_ok(concat({make_image(a), second}));
  EXPECT_FALSE(info.usable());
  EXPECT_NE(all_problems(info).find("image 2"), std::string::npos) << all_problems(info);
}

TEST(VbiosParse, NvidiaNpdeLengthWins) {
  // PCIR says 1 block, the NPDE says 2 (what nouveau's image.c prefers).
  ImageSpec s;
  s.npde = true;
  s.blocks = 2;
  s.length_override = 1;
  auto info = parse_ok(make_image(s));
  ASSERT_EQ(info.images.size(), 1u);
  EXPECT_TRUE(info.images[0].npde);
  EXPECT_EQ(info.images[0].length, 1024u);
}

struct BadCase {
  const char* name;
  Rom bytes;
  const char* expect;
};

TEST(VbiosParse, BadInputsGiveClearErrors) {
  Rom no_pcir = make_image({});
  no_pcir[0x18] = 0, no_pcir[0x19] = 0;
  Rom bad_sig = make_image({});
  bad_sig[0x41] = 'X';
  Rom zero_len = make_image({});
  zero_len[0x4A] = 0, zero_len[0x4B] = 0;  // PCIR length field
  Rom text(4096, 'a');
  Rom full = make_image({});
  Rom cut(full.begin(), full.begin() + 0x50);
  std::vector<BadCase> cases = {
      {"empty", {}, "empty"},
      {"all 0xff", Rom(65536, 0xFF), "0xFF"},
      {"all zero", Rom(4096, 0), "zero bytes"},
      {"tiny", Rom{0x55, 0xAA, 1}, "too small"},
      {"text file", text, "not a ROM"},
      {"no pcir pointer", no_pcir, "no PCI data structure pointer"},
      {"pcir signature", bad_sig, "\"PCIR\" signature"},
      {"pcir length 0", zero_len, "invalid length"},
      {"truncated pcir", cut, "truncated"},
      {"header only", testing::nvidia_header(0x800), "no valid PCI expansion ROM image"},
  };
  for (const auto& c : cases) {
    auto r = parse_rom(c.bytes);
    ASSERT_FALSE(r) << c.name;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << c.name << ": " << r.error().message;
  }
  // ... and problems (not hard errors) that still make the ROM unusable.
  ImageSpec bad_len;
  bad_len.length_override = 200;
  ImageSpec bad_sum;
  bad_sum.fix_checksum = false;
  for (const Rom& r : {make_image(bad_len), make_image(bad_sum),
                       concat({testing::nvidia_header(64), make_image({})})}) {
    auto info = parse_rom(r);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->usable());
  }
}

TEST(VbiosParse, ChainLoopIsBounded) {
  // 100 non-last images: the walk stops with a problem instead of running on.
  ImageSpec a;
  a.last = false;
  a.blocks = 1;
  Rom r;
  for (int i = 0; i < 100; ++i) {
    Rom img = make_image(a);
    r.insert(r.end(), img.begin(), img.end());
  }
  auto info = parse_ok(r);
  EXPECT_FALSE(info.usable());
  EXPECT_EQ(info.images.size(), 64u);
}

TEST(VbiosVfct, FindsTheImageForTheDevice) {
  Rom apu = testing::legacy_efi_rom(0x1002, 0x1636);
  Rom other = make_image({});
  auto t = testing::make_vfct({{0x01, 0, 0, 0x10de, 0x1d01, 0, 0, other},
                               {0x05, 0, 0, 0x1002, 0x1636, 0x17aa, 0x3801, apu}});
  auto images = parse_vfct(t);
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 2u);
  PciDevice dev;
  dev.address = *parse_pci_address("0000:05:00.0");
  dev.vendor_id = 0x1002;
  dev.device_id = 0x1636;
  const VfctImage* img = find_vfct_image(*images, dev);
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(img->subsystem_vendor_id, 0x17aa);
  EXPECT_EQ(Rom(t.begin() + static_cast<long>(img->offset),
                t.begin() + static_cast<long>(img->offset + img->length)),
            apu);
  // Renumbered bus: one record with the IDs still matches; a wrong device never does.
  dev.address.bus = 0x0b;
  EXPECT_EQ(find_vfct_image(*images, dev), img);
  dev.device_id = 0x15e7;
  EXPECT_EQ(find_vfct_image(*images, dev), nullptr);
}

TEST(VbiosVfct, BrokenTables) {
  Rom good = testing::make_vfct({{0, 1, 0, 0x1002, 0x1636, 0, 0, make_image({})}});
  Rom bad_sig = good;
  bad_sig[0] = 'X';
  Rom truncated(good.begin(), good.end() - 10);
  Rom bad_len = good;
  testing::put32(bad_len, 76 + 24, 1u << 30);
  bad_len.resize(bad_len.size());
  Rom bad_off = good;
  testing::put32(bad_off, 0x34, 10);
  for (const auto& [t, expect] : std::vector<std::pair<Rom, std::string>>{{bad_sig, "VFCT"},
                                                                          {truncated, "truncated"},
                                                                          {bad_len, "truncated"},
                                                                          {bad_off, "offset"},
                                                                          {Rom(20, 0), "VFCT"}}) {
    auto r = parse_vfct(t);
    ASSERT_FALSE(r) << expect;
    EXPECT_NE(r.error().message.find(expect), std::string::npos) << r.error().message;
  }
}

RC_GTEST_PROP(VbiosProps, ParserNeverCrashesAndStaysInBounds, (std::vector<std::uint8_t> bytes)) {
  auto info = parse_rom(bytes);
  if (info) {
    RC_ASSERT(info->end <= bytes.size());
    RC_ASSERT(info->header_size < bytes.size());
    for (const auto& img : info->images) RC_ASSERT(img.offset < bytes.size());
  }
}

RC_GTEST_PROP(VbiosProps, StripRemovesExactlyTheHeader,
              (std::uint16_t header_len, std::uint8_t fill)) {
  Rom rom = testing::legacy_efi_rom();
  Rom header(header_len % 4096, fill == 0x55 ? 0 : fill);
  auto out = strip_rom_header(concat({header, rom}));
  RC_ASSERT(out.has_value());
  RC_ASSERT(*out == rom);
}

}  // namespace
}  // namespace exliar
