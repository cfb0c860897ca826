// Lint mode: every mistake it knows, and silence on a domain exliar patched itself.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "vm_test_util.h"

namespace exliar::vm {
namespace {

using namespace test;

std::string hostdev(int fn, const std::string& guest, const std::string& extra = "") {
  std::string s =
      "<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
      "domain='0x0000' bus='0x0a' slot='0x00' function='" +
      std::to_string(fn) + "'/></source>" + extra;
  if (!guest.empty()) s += "<address type='pci' " + guest + "/>";
  return s + "</hostdev>";
}

std::string domain(const std::string& devices) {
  return "<domain type='kvm'><name>t</name><memory>1</memory><os><type "
         "machine='q35'>hvm</type></os>"
         "<devices>" +
         devices + "</devices></domain>";
}

std::vector<std::string> ids(const std::string& xml, const Inventory& inv) {
  auto host = RealFs::open("/");
  EXPECT_TRUE(host);
  auto r = lint_domain(xml, inv, *host, "d.xml");
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  std::vector<std::string> out;
  if (r)
    for (const auto& f : *r) out.push_back(f.id + "@" + f.device);
  std::sort(out.begin(), out.end());
  return out;
}

const std::string kSlot = "domain='0' bus='6' slot='0'";

TEST(Lint, MissingAudioAndCompanionFunctions) {
  auto inv = turing_inventory();
  auto got = ids(domain(hostdev(0, kSlot + " function='0'")), inv);
  EXPECT_EQ(got,
            (std::vector<std::string>{"missing-audio@0000:0a:00.1", "missing-function@0000:0a:00.2",
                                      "missing-function@0000:0a:00.3"}));
}

TEST(Lint, SplitAcrossGuestSlots) {
  auto inv = turing_inventory();
  std::string devs;
  for (int fn = 0; fn < 4; ++fn)
    devs += hostdev(fn, "domain='0' bus='" + std::to_string(6 + (fn == 1)) +
                            "' slot='0' function='0'" + (fn == 0 ? " multifunction='on'" : ""));
  EXPECT_EQ(ids(domain(devs), inv), (std::vector<std::string>{"split-slot@0000:0a:00.0"}));
}

TEST(Lint, NoGuestAddressAndNoMultifunction) {
  auto inv = turing_inventory();
  std::string devs = hostdev(0, kSlot + " function='0'") + hostdev(1, kSlot + " function='1'") +
                     hostdev(2, kSlot + " function='2'") + hostdev(3, "");
  EXPECT_EQ(ids(domain(devs), inv), (std::vector<std::string>{"no-guest-address@0000:0a:00.3",
                                                              "no-multifunction@0000:0a:00.0"}));
}

TEST(Lint, NotIsolatedAndNoIommu) {
  auto inv = turing_inventory(Isolation::shared);
  auto xml = patch_domain(domain(""), *make_passthrough(inv.gpus[0], inv.devices, {}));
  ASSERT_TRUE(xml);
  EXPECT_EQ(ids(xml->xml, inv), (std::vector<std::string>{"not-isolated@0000:0a:00.0"}));
  auto host = RealFs::open("/");
  auto r = lint_domain(xml->xml, inv, *host);
  ASSERT_TRUE(r);
  EXPECT_NE(r->at(0).message.find("0000:0b:00.0"), std::string::npos) << r->at(0).message;
  inv.gpus[0].isolation = Isolation::no_iommu;
  EXPECT_EQ(ids(xml->xml, inv), (std::vector<std::string>{"no-iommu@0000:0a:00.0"}));
}

TEST(Lint, RomPathsLibvirtCannotRead) {
  auto inv = turing_inventory();
  TempDir dir;
  std::string good = dir.path() + "/good.rom", secret = dir.path() + "/secret.rom",
              empty = dir.path() + "/empty.rom", locked = dir.path() + "/locked/in.rom";
  ::chmod(dir.path().c_str(), 0755);
  write_text(good, "\x55\xaa rom");
  write_text(secret, "\x55\xaa rom");
  write_text(empty, "");
  write_text(locked, "\x55\xaa rom");
  ::chmod(good.c_str(), 0644);
  ::chmod(secret.c_str(), 0600);
  ::chmod(empty.c_str(), 0644);
  ::chmod(locked.c_str(), 0644);
  ::chmod((dir.path() + "/locked").c_str(), 0700);
  auto with_rom = [&](const std::string& rom) {
    VmSnippets s;
    s.rom_file = rom;
    auto p = make_passthrough(inv.gpus[0], inv.devices, s);
    return patch_domain(domain(""), *p)->xml;
  };
  // temp_directory_path's parents (/tmp) are world-searchable
  EXPECT_EQ(ids(with_rom(good), inv), std::vector<std::string>{});
  for (const auto& bad : {secret, empty, locked, dir.path() + "/missing.rom"})
    EXPECT_EQ(ids(with_rom(bad), inv), (std::vector<std::string>{"rom-unreadable@0000:0a:00.0"}))
        << bad;
  std::string rel =
      domain(hostdev(0, kSlot + " function='0' multifunction='on'", "<rom file='roms/x.rom'/>") +
             hostdev(1, kSlot + " function='1'") + hostdev(2, kSlot + " function='2'") +
             hostdev(3, kSlot + " function='3'"));
  EXPECT_EQ(ids(rel, inv), (std::vector<std::string>{"rom-unreadable@0000:0a:00.0"}));
}

TEST(Lint, PatchedDomainIsClean) {
  auto inv = turing_inventory();
  auto p = make_passthrough(inv.gpus[0], inv.devices, code43_snippets());
  auto r = patch_domain(read_text(source_path("tests/data/vm/win11-q35.xml")), *p);
  ASSERT_TRUE(r);
  EXPECT_EQ(ids(r->xml, inv), std::vector<std::string>{});
}

TEST(Lint, UnknownHostDevice) {
  auto inv = turing_inventory();
  std::string devs =
      "<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
      "domain='0x0000' bus='0x42' slot='0x00' function='0x0'/></source></hostdev>";
  EXPECT_EQ(ids(domain(devs), inv), (std::vector<std::string>{"not-on-host@0000:42:00.0"}));
}

TEST(Lint, BadXmlIsAnError) {
  auto host = RealFs::open("/");
  auto r = lint_domain("<domain>\n<devices>\n", turing_inventory(), *host, "x.xml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().path, "x.xml");
  EXPECT_GT(r.error().line, 0);
}

}  // namespace
}  // namespace exliar::vm
