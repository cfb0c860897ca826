// dump_rom and validate_rom_for on fixture roots built in temp dirs.
#include <gtest/gtest.h>

#include "gpu/vbios.h"
#include "probe/pci.h"
#include "unit/gpu/vbios_fixture.h"

namespace exliar {
namespace {

using testing::DeviceSpec;
using testing::FixtureRoot;
using testing::Rom;
using testing::RomRecordingFs;

PciDevice device_of(const Fs& fs, const std::string& addr) {
  std::vector<ProbeNote> notes;
  for (auto& d : scan_pci(fs, notes))
    if (d.address.str() == addr) return d;
  ADD_FAILURE() << "no device " << addr;
  return {};
}

RomRecordingFs open_fs(const FixtureRoot& root) {
  auto real = RealFs::open(root.dir());
  EXPECT_TRUE(real);
  return RomRecordingFs(std::move(*real));
}

const std::vector<std::string> kOnOff = {"1", "0"};

TEST(VbiosDump, SysfsRomIsEnabledReadAndDisabled) {
  FixtureRoot root;
  DeviceSpec spec;
  spec.rom = testing::legacy_efi_rom();
  spec.driver = "nouveau";
  root.add_device(spec);
  auto fs = open_fs(root);
  auto dev = device_of(fs, "0000:01:00.0");
  auto rom = dump_rom(fs, dev);
  ASSERT_TRUE(rom) << rom.error().describe();
  EXPECT_EQ(fs.rom_writes, kOnOff);
  EXPECT_EQ(rom->source, "sysfs");
  EXPECT_EQ(rom->bytes, *spec.rom);
  EXPECT_EQ(rom->info.images.size(), 2u);
  EXPECT_EQ(default_rom_path(dev), "/var/lib/exliar/vbios/10de-1d01-1458-3771.rom");
}

TEST(VbiosDump, DisabledAgainWhenTheReadFails) {
  FixtureRoot root;
  DeviceSpec spec;
  spec.rom = testing::legacy_efi_rom();
  root.add_device(spec);
  auto fs = open_fs(root);
  fs.read_rom_fails = true;
  auto rom = dump_rom(fs, device_of(fs, "0000:01:00.0"));
  ASSERT_FALSE(rom);
  EXPECT_EQ(fs.rom_writes, kOnOff);
  EXPECT_NE(rom.error().message.find("reading the ROM failed"), std::string::npos);
  EXPECT_NE(rom.error().path.find("/rom"), std::string::npos);
}

TEST(VbiosDump, DisabledAgainWhenTheContentIsInvalid) {
  FixtureRoot root;
  DeviceSpec spec;
  spec.rom = Rom(4096, 0xFF);  // unmapped ROM
  root.add_device(spec);
  auto fs = open_fs(root);
  auto rom = dump_rom(fs, device_of(fs, "0000:01:00.0"));
  ASSERT_FALSE(rom);
  EXPECT_EQ(fs.rom_writes, kOnOff);
  EXPECT_NE(rom.error().message.find("0xFF"), std::string::npos) << rom.error().message;
  EXPECT_NE(rom.error().message.find("not saved"), std::string::npos);
}

TEST(VbiosDump, FailedEnableIsReported) {
  FixtureRoot root;
  DeviceSpec spec;
  spec.rom = testing::legacy_efi_rom();
  root.add_device(spec);
  auto fs = open_fs(root);
  fs.enable_fails = true;
  auto rom = dump_rom(fs, device_of(fs, "0000:01:00.0"));
  ASSERT_FALSE(rom);
  EXPECT_EQ(fs.rom_writes, std::vector<std::string>{"1"});
  EXPECT_NE(rom.error().message.find("cannot enable"), std::string::npos);
}

TEST(VbiosDump, Refusals) {
  struct Case {
    const char* name;
    DeviceSpec spec;
    const char* expect;
  };
  DeviceSpec vfio;
  vfio.rom = testing::legacy_efi_rom();
  vfio.driver = "vfio-pci";
  DeviceSpec empty;
  empty.rom = Rom{};
  DeviceSpec none;
  DeviceSpec other_gpu;
  other_gpu.rom = testing::legacy_efi_rom(0x10de, 0x2204);
  DeviceSpec header;
  header.rom = testing::concat({testing::nvidia_header(0x200), testing::legacy_efi_rom()});
  for (const auto& c : std::vector<Case>{{"vfio", vfio, "bound to vfio-pci"},
                                         {"empty", empty, "0 bytes"},
                                         {"no rom", none, "no ROM attribute"},
                                         {"other gpu", other_gpu, "10de:1d01"},
                                         {"header", header, "precede"}}) {
    FixtureRoot root;
    root.add_device(c.spec);
    auto fs = open_fs(root);
    auto rom = dump_rom(fs, device_of(fs, "0000:01:00.0"));
    ASSERT_FALSE(rom) << c.name;
    EXPECT_NE(rom.error().message.find(c.expect), std::string::npos)
        << c.name << ": " << rom.error().message;
    if (c.spec.rom && std::string(c.name) != "vfio") {
      EXPECT_EQ(fs.rom_writes, kOnOff) << c.name;
    }
    if (std::string(c.name) == "vfio") {
      EXPECT_TRUE(fs.rom_writes.empty());
    }
  }
}

TEST(VbiosDump, ApuFromVfct) {
  FixtureRoot root;
  DeviceSpec apu;
  apu.address = "0000:05:00.0";
  apu.vendor = 0x1002, apu.device = 0x1636, apu.ssv = 0x17aa, apu.ssd = 0x3801;
  apu.boot_vga = true;
  root.add_device(apu);  // no `rom` attribute, like an APU without ROM BAR
  Rom image = testing::legacy_efi_rom(0x1002, 0x1636);
  root.add_vfct(testing::make_vfct({{5, 0, 0, 0x1002, 0x1636, 0x17aa, 0x3801, image}}));
  auto fs = open_fs(root);
  auto rom = dump_rom(fs, device_of(fs, "0000:05:00.0"));
  ASSERT_TRUE(rom) << rom.error().describe();
  EXPECT_EQ(rom->source, "vfct");
  EXPECT_EQ(rom->bytes, image);
  EXPECT_TRUE(fs.rom_writes.empty());
}

TEST(VbiosDump, BootApuPrefersVfctOverShadow) {
  FixtureRoot root;
  DeviceSpec apu;
  apu.address = "0000:05:00.0";
  apu.vendor = 0x1002, apu.device = 0x1636;
  apu.boot_vga = true;
  apu.rom = testing::make_image({});  // the shadow: wrong IDs, would be refused
  root.add_device(apu);
  Rom image = testing::legacy_efi_rom(0x1002, 0x1636);
  root.add_vfct(testing::make_vfct({{5, 0, 0, 0x1002, 0x1636, 0, 0, image}}));
  auto fs = open_fs(root);
  auto rom = dump_rom(fs, device_of(fs, "0000:05:00.0"));
  ASSERT_TRUE(rom) << rom.error().describe();
  EXPECT_EQ(rom->source, "vfct");
  EXPECT_TRUE(fs.rom_writes.empty());
}

TEST(VbiosDump, VfctWithoutMatchingImage) {
  FixtureRoot root;
  DeviceSpec apu;
  apu.address = "0000:05:00.0";
  apu.vendor = 0x1002, apu.device = 0x1636;
  root.add_device(apu);
  root.add_vfct(testing::make_vfct(
      {{5, 0, 0, 0x1002, 0x15e7, 0, 0, testing::legacy_efi_rom(0x1002, 0x15e7)}}));
  auto fs = open_fs(root);
  auto rom = dump_rom(fs, device_of(fs, "0000:05:00.0"));
  ASSERT_FALSE(rom);
  EXPECT_NE(rom.error().message.find("none for 1002:1636"), std::string::npos)
      << rom.error().message;
}

TEST(VbiosValidate, ForDevice) {
  FixtureRoot root;
  Rom good = testing::legacy_efi_rom();
  testing::write_file(root.dir() + "/good.rom", good.data(), good.size());
  Rom legacy_only = testing::make_image({});
  testing::write_file(root.dir() + "/legacy.rom", legacy_only.data(), legacy_only.size());
  Rom hdr = testing::concat({testing::nvidia_header(), good});
  testing::write_file(root.dir() + "/hdr.rom", hdr.data(), hdr.size());
  PciDevice dev;
  dev.vendor_id = 0x10de;
  dev.device_id = 0x1d01;
  auto real = RealFs::open(root.dir());
  ASSERT_TRUE(real);

  auto v = validate_rom_for(*real, "/good.rom", dev);
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_EQ(v->path, root.dir() + "/good.rom");
  EXPECT_TRUE(v->warnings.empty());

  auto l = validate_rom_for(*real, "/legacy.rom", dev);
  ASSERT_TRUE(l);
  ASSERT_EQ(l->warnings.size(), 1u);
  EXPECT_NE(l->warnings[0].find("OVMF"), std::string::npos);

  auto h = validate_rom_for(*real, "/hdr.rom", dev);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().path, root.dir() + "/hdr.rom");
  EXPECT_NE(h.error().message.find("vbios patch"), std::string::npos);

  auto missing = validate_rom_for(*real, "/missing.rom", dev);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot read the ROM file"), std::string::npos);

  dev.device_id = 0x2204;
  auto wrong = validate_rom_for(*real, "/good.rom", dev);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("10de:2204"), std::string::npos);

  // The host-path overload: an absolute path on the machine running the tests.
  dev.device_id = 0x1d01;
  auto host = validate_rom_for(root.dir() + "/good.rom", dev);
  ASSERT_TRUE(host) << host.error().describe();
  EXPECT_EQ(host->path, root.dir() + "/good.rom");
}

}  // namespace
}  // namespace exliar
