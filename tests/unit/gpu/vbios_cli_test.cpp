// The built exliar binary: vbios dump -> check -> patch round trips on fixture roots.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host/paths.h"
#include "host/runner.h"
#include "unit/gpu/vbios_fixture.h"

namespace exliar {
namespace {

using testing::DeviceSpec;
using testing::FixtureRoot;
using testing::Rom;

CommandResult exliar(std::vector<std::string> args) {
  args.insert(args.begin(), EXLIAR_EXE);
  ProcessRunner r;
  RunOptions o;
  o.timeout = std::chrono::seconds(30);
  auto res = r.run(args, o);
  EXPECT_TRUE(res) << "exliar could not start";
  return res ? *res : CommandResult{};
}

Rom bytes_of(const std::string& p) {
  std::string s = testing::read_all(p);
  return Rom(s.begin(), s.end());
}

void put(const std::string& p, const Rom& r) { testing::write_file(p, r.data(), r.size()); }

TEST(VbiosCli, ApuDumpCheckPatchRoundTrip) {
  FixtureRoot root;
  DeviceSpec apu;
  apu.address = "0000:05:00.0";
  apu.vendor = 0x1002, apu.device = 0x1636, apu.ssv = 0x17aa, apu.ssd = 0x3801;
  root.add_device(apu);
  Rom image = testing::legacy_efi_rom(0x1002, 0x1636);
  root.add_vfct(testing::make_vfct({{5, 0, 0, 0x1002, 0x1636, 0x17aa, 0x3801, image}}));

  // dump to the default location under the root
  auto d = exliar({"--root", root.dir(), "vbios", "dump", "0000:05:00.0"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::string saved = root.dir() + std::string(paths::kVbiosDir) + "/1002-1636-17aa-3801.rom";
  EXPECT_EQ(bytes_of(saved), image);
  EXPECT_NE(d.out.find("Saved the ROM of 0000:05:00.0"), std::string::npos) << d.out;

  // dump with -o (a host file) and --json
  std::string out = root.dir() + "/apu.rom";
  auto dj = exliar({"--root", root.dir(), "--json", "vbios", "dump", "05:00.0", "-o", out});
  ASSERT_EQ(dj.exit_code, 0) << dj.err;
  EXPECT_EQ(bytes_of(out), image);
  auto j = nlohmann::json::parse(dj.out);
  EXPECT_EQ(j["source"], "vfct");
  EXPECT_EQ(j["images"].size(), 2u);
  EXPECT_EQ(j["images"][1]["code_type"], "EFI");

  // check against the GPU
  auto c = exliar({"--root", root.dir(), "vbios", "check", out, "--gpu", "0000:05:00.0"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("matches GPU"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("Verdict: usable"), std::string::npos);
  // check -o: the report goes to the file (atomically), not stdout
  std::string report = root.dir() + "/report.json";
  auto cr = exliar({"--root", root.dir(), "--json", "vbios", "check", out, "-o", report});
  EXPECT_EQ(cr.exit_code, 0) << cr.err;
  EXPECT_TRUE(cr.out.empty());
  EXPECT_EQ(nlohmann::json::parse(testing::read_all(report))["has_efi"], true);

  // prepend a vendor header: check says not usable, patch removes it again
  std::string with_hdr = root.dir() + "/hdr.rom";
  put(with_hdr, testing::concat({testing::nvidia_header(0x400), image}));
  Rom before = bytes_of(with_hdr);
  auto c2 = exliar({"vbios", "check", with_hdr, "--json"});
  EXPECT_EQ(c2.exit_code, 1);
  auto j2 = nlohmann::json::parse(c2.out);
  EXPECT_EQ(j2["header_size"], 0x400);
  EXPECT_EQ(j2["usable"], false);
  std::string patched = root.dir() + "/patched.rom";
  auto p = exliar({"vbios", "patch", with_hdr, "-o", patched});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("Removed a 1024-byte header"), std::string::npos) << p.out;
  EXPECT_EQ(bytes_of(patched), image);
  EXPECT_EQ(bytes_of(with_hdr), before);  // input untouched
  auto c3 = exliar({"vbios", "check", patched, "--root", root.dir(), "--gpu", "0000:05:00.0"});
  EXPECT_EQ(c3.exit_code, 0) << c3.out;
}

TEST(VbiosCli, SysfsDumpAlwaysDisablesTheRom) {
  // The fixture `rom` is a plain file, so the "1" written to enable it lands on byte 0
  // and the read is no longer a ROM; what matters: the dump is refused, nothing is
  // saved, and the last write to `rom` was "0".
  FixtureRoot root;
  DeviceSpec gpu;
  gpu.rom = testing::legacy_efi_rom();
  std::string dev = root.add_device(gpu);
  auto d = exliar({"--root", root.dir(), "vbios", "dump", "0000:01:00.0"});
  EXPECT_EQ(d.exit_code, 1) << d.err;
  EXPECT_NE(d.err.find("not saved"), std::string::npos) << d.err;
  std::string after = testing::read_all(dev + "/rom");
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after[0], '0');
  EXPECT_FALSE(std::filesystem::exists(root.dir() + std::string(paths::kVbiosDir)));
}

TEST(VbiosCli, Errors) {
  FixtureRoot root;
  DeviceSpec gpu;
  gpu.rom = testing::legacy_efi_rom();
  gpu.driver = "vfio-pci";
  root.add_device(gpu);
  std::string good = root.dir() + "/good.rom";
  put(good, testing::legacy_efi_rom());
  std::string bad = root.dir() + "/bad.rom";
  put(bad, Rom(100, 0xFF));

  struct Case {
    std::vector<std::string> args;
    int code;
    const char* expect;
  };
  std::vector<Case> cases = {
      {{"vbios", "patch", good}, 2, "needs -o"},
      {{"vbios", "patch", good, "-o", good}, 2, "never changes its input"},
      {{"vbios", "check", bad}, 1, "0xFF"},
      {{"vbios", "check", root.dir() + "/missing.rom"}, 1, "cannot read the ROM file"},
      {{"--root", root.dir(), "vbios", "check", good, "--gpu", "zz:1"}, 2, "not a PCI address"},
      {{"--root", root.dir(), "vbios", "check", good, "--gpu", "0000:09:00.0"}, 3, "no PCI device"},
      {{"--root", root.dir(), "vbios", "dump", "0000:01:00.0"}, 1, "bound to vfio-pci"},
      {{"vbios", "patch", bad, "-o", root.dir() + "/x.rom"}, 1, "nothing written"},
  };
  for (const auto& c : cases) {
    auto r = exliar(c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(root.dir() + "/x.rom"));
  EXPECT_EQ(bytes_of(good), testing::legacy_efi_rom());
  // wrong GPU: usable ROM for another device -> exit 1, says which
  auto w = exliar({"--root", root.dir(), "vbios", "check", good, "--gpu", "0000:01:00.0"});
  EXPECT_EQ(w.exit_code, 0) << w.out;  // same IDs: fine
  std::string amd = root.dir() + "/amd.rom";
  put(amd, testing::legacy_efi_rom(0x1002, 0x73bf));
  auto w2 = exliar({"--root", root.dir(), "vbios", "check", amd, "--gpu", "0000:01:00.0"});
  EXPECT_EQ(w2.exit_code, 1);
  EXPECT_NE(w2.out.find("vendor 1002"), std::string::npos) << w2.out;
}

}  // namespace
}  // namespace exliar
