// The pure generators: Gpu + devices + VmSnippets -> fragment XML and QEMU arguments.
#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <set>

#include "vm_test_util.h"

namespace exliar::vm {
namespace {

using namespace test;

Passthrough turing(VmSnippets s = {}, std::optional<std::string> rom = {}) {
  auto inv = turing_inventory();
  auto p = make_passthrough(inv.gpus[0], inv.devices, s, rom);
  EXPECT_TRUE(p) << (p ? "" : p.error().describe());
  return *p;
}

TEST(Fragment, EveryFunctionOneGuestSlotFunctionsPreserved) {
  auto xml = fragment_xml(turing());
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  std::set<std::string> slots;
  std::vector<std::string> host_fns;
  int multifunction = 0;
  for (auto h : doc.children("hostdev")) {
    EXPECT_STREQ(h.attribute("mode").value(), "subsystem");
    EXPECT_STREQ(h.attribute("type").value(), "pci");
    EXPECT_STREQ(h.attribute("managed").value(), "yes");
    auto src = h.child("source").child("address");
    auto ga = h.child("address");
    EXPECT_STREQ(ga.attribute("type").value(), "pci");
    EXPECT_STREQ(src.attribute("bus").value(), "0x0a");
    // guest function == host function
    EXPECT_STREQ(ga.attribute("function").value(), src.attribute("function").value());
    slots.insert(std::string(ga.attribute("bus").value()) + ":" + ga.attribute("slot").value());
    host_fns.push_back(src.attribute("function").value());
    if (ga.attribute("multifunction")) {
      ++multifunction;
      EXPECT_STREQ(ga.attribute("function").value(), "0x0");
      EXPECT_STREQ(ga.attribute("multifunction").value(), "on");
    }
    EXPECT_FALSE(h.child("rom"));
  }
  EXPECT_EQ(host_fns, (std::vector<std::string>{"0x0", "0x1", "0x2", "0x3"}));
  EXPECT_EQ(slots.size(), 1u);
  EXPECT_EQ(multifunction, 1);
  EXPECT_FALSE(doc.child("features")) << "no snippets asked for, none printed";
}

TEST(Fragment, RomOnlyOnTheGpuFunctionAndOverrideWins) {
  VmSnippets s;
  s.rom_file = "/usr/share/vgabios/db.rom";
  s.rom_bar_off = false;
  auto p = turing(s, std::string("/srv/roms/tu106.rom"));
  auto xml = fragment_xml(p);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  int roms = 0;
  for (auto h : doc.children("hostdev"))
    if (auto r = h.child("rom")) {
      ++roms;
      EXPECT_STREQ(h.child("source").child("address").attribute("function").value(), "0x0");
      EXPECT_STREQ(r.attribute("file").value(), "/srv/roms/tu106.rom");
    }
  EXPECT_EQ(roms, 1);
  EXPECT_EQ(turing(s).snippets.rom_file, "/usr/share/vgabios/db.rom");
}

TEST(Fragment, SnippetsOnlyWhenAsked) {
  auto xml = fragment_xml(turing(code43_snippets()));
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  auto f = doc.child("features");
  ASSERT_TRUE(f);
  EXPECT_STREQ(f.child("kvm").child("hidden").attribute("state").value(), "on");
  EXPECT_STREQ(f.child("hyperv").child("vendor_id").attribute("value").value(), "exliar");
  EXPECT_STREQ(f.child("ioapic").attribute("driver").value(), "kvm");

  VmSnippets only_vendor;
  only_vendor.hyperv_vendor_id = "1234567890ab";
  doc.reset();
  ASSERT_TRUE(doc.load_string(fragment_xml(turing(only_vendor)).c_str()));
  EXPECT_FALSE(doc.child("features").child("kvm"));
  EXPECT_FALSE(doc.child("features").child("ioapic"));
}

TEST(Fragment, SingleFunctionGpuHasNoMultifunction) {
  Inventory inv;
  inv.devices = {test::device("0000:00:02.0", 0x8086, 0x3e92, 0x030000)};
  Gpu g;
  g.address = test::addr("0000:00:02.0");
  g.functions = {g.address};
  auto p = make_passthrough(g, inv.devices, {});
  ASSERT_TRUE(p);
  auto xml = fragment_xml(*p);
  EXPECT_EQ(xml.find("multifunction"), std::string::npos) << xml;
  EXPECT_NE(xml.find("8086:3e92 GPU (VGA)"), std::string::npos) << xml;
}

TEST(Passthrough, RefusesWhatLibvirtRefuses) {
  auto inv = turing_inventory();
  VmSnippets s;
  s.hyperv_vendor_id = "thirteen-char";
  EXPECT_FALSE(make_passthrough(inv.gpus[0], inv.devices, s));
  s.hyperv_vendor_id = "a,b";
  EXPECT_FALSE(make_passthrough(inv.gpus[0], inv.devices, s));
  EXPECT_FALSE(make_passthrough(inv.gpus[0], inv.devices, {}, std::string("rel/x.rom")));
}

TEST(Qemu, MultifunctionDeviceBehindOneRootPort) {
  VmSnippets s = code43_snippets();
  s.rom_file = "/roms/my roms/a,b.rom";
  s.rom_bar_off = true;
  auto a = qemu_args(turing(s));
  ASSERT_EQ(a.size() % 2, 0u);
  std::vector<std::string> vfio;
  std::string port;
  for (std::size_t i = 0; i < a.size(); i += 2) {
    if (a[i] == "-device" && a[i + 1].rfind("vfio-pci,", 0) == 0) vfio.push_back(a[i + 1]);
    if (a[i] == "-device" && a[i + 1].rfind("pcie-root-port,", 0) == 0) port = a[i + 1];
  }
  ASSERT_EQ(vfio.size(), 4u);
  EXPECT_NE(port.find("id=exliar-rp-0000-0a-00"), std::string::npos);
  EXPECT_EQ(vfio[0],
            "vfio-pci,host=0000:0a:00.0,id=hostdev-0000-0a-00-0,bus=exliar-rp-0000-0a-00,"
            "addr=00.0,multifunction=on,romfile=/roms/my roms/a,,b.rom,rombar=0");
  EXPECT_EQ(
      vfio[3],
      "vfio-pci,host=0000:0a:00.3,id=hostdev-0000-0a-00-3,bus=exliar-rp-0000-0a-00,addr=00.3");
  EXPECT_EQ(a[0], "-machine");
  EXPECT_EQ(a[1], "q35,kernel_irqchip=on");
  EXPECT_EQ(a[3], "host,kvm=off,hv_vendor_id=exliar");
  auto text = qemu_args_text(turing(s));
  // the space in the ROM path needs shell quoting; the other words do not
  EXPECT_NE(text.find("-device 'vfio-pci,host=0000:0a:00.0,"), std::string::npos) << text;
  EXPECT_NE(text.find("-device vfio-pci,host=0000:0a:00.1,"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find("\\\n#"), std::string::npos);
}

TEST(Qemu, NoSnippetsNoCpuOrMachine) {
  auto a = qemu_args(turing());
  for (const auto& w : a) {
    EXPECT_NE(w, "-cpu");
    EXPECT_NE(w, "-machine");
  }
}

TEST(Golden, SyntheticTuringFragmentAndQemu) {
  VmSnippets s = code43_snippets();
  s.rom_file = "/usr/share/vgabios/tu106.rom";
  auto p = turing(s);
  expect_golden("tests/golden/vm/synthetic-turing.fragment.xml", fragment_xml(p));
  expect_golden("tests/golden/vm/synthetic-turing.qemu.txt", qemu_args_text(p));
}

}  // namespace
}  // namespace exliar::vm
