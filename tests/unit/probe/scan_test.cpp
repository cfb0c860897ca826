// The PCI scan's fast path (issue 23): uevent parsing, pci.ids read in pieces, and a
// scan over a tree with uevent files giving what the attribute files give.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <fstream>

#include "host/fs.h"
#include "probe/inventory_json.h"
#include "probe/pci.h"
#include "probe/pci_ids.h"
#include "probe/probe.h"

namespace exliar {
namespace {

namespace fsys = std::filesystem;

TEST(PciUevent, ParsesWhatTheKernelWrites) {
  // A real uevent (GT 1030 on nouveau): PCI_CLASS is "%04X" of 24 bits, no 0x.
  auto u = parse_pci_uevent(
      "DRIVER=nouveau\nPCI_CLASS=30000\nPCI_ID=10DE:1D01\nPCI_SUBSYS_ID=1458:3747\n"
      "PCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:"
      "v000010DEd00001D01sv00001458sd00003747bc03sc00i00\n");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->vendor_id, 0x10de);
  EXPECT_EQ(u->device_id, 0x1d01);
  EXPECT_EQ(u->class_code, 0x030000u);
  EXPECT_EQ(u->subsystem_vendor_id, 0x1458);
  EXPECT_EQ(u->subsystem_device_id, 0x3747);
  EXPECT_EQ(u->driver, "nouveau");
  auto unbound = parse_pci_uevent("PCI_CLASS=60400\nPCI_ID=8086:1901\n");
  ASSERT_TRUE(unbound);
  EXPECT_FALSE(unbound->driver);
  EXPECT_FALSE(unbound->subsystem_vendor_id);
}

TEST(PciUevent, RefusesWhatIsMissingOrMalformed) {
  for (const char* bad :
       {"", "PCI_CLASS=30000\n", "PCI_ID=10DE:1D01\n", "PCI_CLASS=30000\nPCI_ID=10DE1D01\n",
        "PCI_CLASS=1000000\nPCI_ID=10DE:1D01\n", "PCI_CLASS=0x30000\nPCI_ID=10DE:1D01\n",
        "PCI_CLASS=30000\nPCI_ID=10DE:1D01\nPCI_SUBSYS_ID=junk\n",
        "PCI_CLASS=30000\nPCI_ID=10DE:1D01\nDRIVER=../../x\n",
        "PCI_CLASS=30000\nPCI_ID=10DE:1D01\nDRIVER=\n"})
    EXPECT_FALSE(parse_pci_uevent(bad)) << bad;
}

RC_GTEST_PROP(PciUevent, NeverCrashesOnJunk, (const std::string& junk)) {
  (void)parse_pci_uevent(junk);
}

// PciIdsStream gives PciIds' answers however the text is split.
RC_GTEST_PROP(PciIdsStream, AgreesWithPciIdsAtAnySplit, ()) {
  const std::vector<std::string> pieces = {"10de  NVIDIA Corporation\n",
                                           "1002  AMD\n",
                                           "\t1d01  GP108\n",
                                           "\t1d01  again\n",
                                           "\t\t1458 3747  sub\n",
                                           "# c\n",
                                           "\n",
                                           "junk line\n",
                                           "C 03  Display\n",
                                           "\t0fb8  HDA\n",
                                           "10de  NVIDIA again\n",
                                           "\t73df  Navi\t\n",
                                           "\t1d0"};
  auto idx = *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, pieces.size()));
  std::string text;
  for (auto i : idx) text += pieces[i];
  PciIds whole(text);
  PciIdsStream s;
  const std::vector<std::pair<std::uint16_t, std::uint16_t>> asks = {
      {0x10de, 0x1d01}, {0x10de, 0x0fb8}, {0x1002, 0x73df}, {0x1002, 0x1d01}, {0x8086, 0x1d01}};
  for (auto [v, d] : asks) s.want(v, d);
  size_t cut = text.empty() ? 0 : *rc::gen::inRange<size_t>(0, text.size());
  s.feed(std::string_view(text).substr(0, cut));
  s.feed(std::string_view(text).substr(cut));
  s.finish();
  for (auto [v, d] : asks) {
    auto wv = whole.vendor(v);
    auto wd = whole.device(v, d);
    RC_ASSERT(s.vendor(v) == (wv ? std::optional<std::string>(*wv) : std::nullopt));
    RC_ASSERT(s.device(v, d) == (wd ? std::optional<std::string>(*wd) : std::nullopt));
  }
}

// What detect --json says of the devices and groups (the notes may differ).
std::string inventory_devices_json(const Inventory& inv) {
  std::string out;
  for (const auto& d : inv.devices) out += device_to_json(d).dump() + "\n";
  for (const auto& g : inv.groups) out += group_to_json(g).dump() + "\n";
  return out;
}

void put(const fsys::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string hexfile(const fsys::path& p) {
  std::ifstream f(p);
  std::string s;
  f >> s;
  return s.substr(2);
}

// Every fixture machine, with the uevent files the kernel would have written added: the
// inventory is the same as from the attribute files alone. And then with the attribute
// files gone, as on a kernel that keeps them but a snapshot that did not: still the same.
TEST(PciScan, UeventGivesWhatTheAttributesGive) {
  int machines = 0;
  for (const auto& m : fsys::directory_iterator(EXLIAR_BINARY_DIR "/machines")) {
    if (!fsys::is_directory(m.path() / "sys/bus/pci/devices")) continue;  // stamps
    ++machines;
    auto tmp = fsys::temp_directory_path() / ("exliar-uevent-" + m.path().filename().string());
    fsys::remove_all(tmp);
    fsys::copy(m.path(), tmp, fsys::copy_options::recursive | fsys::copy_options::copy_symlinks);
    auto fs = RealFs::open(tmp.string());
    ASSERT_TRUE(fs);
    auto before = inventory_devices_json(probe(*fs));
    int written = 0;
    for (const auto& e : fsys::directory_iterator(tmp / "sys/bus/pci/devices")) {
      auto d = fsys::canonical(e.path());
      std::string ev;
      if (fsys::exists(d / "driver"))
        ev += "DRIVER=" + fsys::read_symlink(d / "driver").filename().string() + "\n";
      ev += "PCI_CLASS=" + hexfile(d / "class") + "\nPCI_ID=" + hexfile(d / "vendor") + ":" +
            hexfile(d / "device") + "\n";
      if (fsys::exists(d / "subsystem_vendor"))
        ev += "PCI_SUBSYS_ID=" + hexfile(d / "subsystem_vendor") + ":" +
              hexfile(d / "subsystem_device") + "\n";
      put(d / "uevent", ev);
      for (auto a : {"vendor", "device", "class", "subsystem_vendor", "subsystem_device"})
        fsys::remove(d / a);
      fsys::remove(d / "driver");
      ++written;
    }
    EXPECT_GT(written, 0) << m.path();
    EXPECT_EQ(inventory_devices_json(probe(*fs)), before) << m.path();
    fsys::remove_all(tmp);
  }
  EXPECT_GE(machines, 8);
}

// A uevent without a valid identity is noted, and the attribute files are read instead.
TEST(PciScan, MalformedUeventFallsBackToTheAttributes) {
  auto tmp = fsys::temp_directory_path() / "exliar-uevent-bad";
  fsys::remove_all(tmp);
  fsys::copy(EXLIAR_BINARY_DIR "/machines/z370-ubuntu", tmp,
             fsys::copy_options::recursive | fsys::copy_options::copy_symlinks);
  auto fs = RealFs::open(tmp.string());
  ASSERT_TRUE(fs);
  auto before = inventory_devices_json(probe(*fs));
  auto dev = fsys::canonical(tmp / "sys/bus/pci/devices/0000:01:00.0");
  put(dev / "uevent", "PCI_CLASS=zz\nPCI_ID=10DE:1D01\n");
  auto inv = probe(*fs);
  EXPECT_EQ(inventory_devices_json(inv), before);
  bool noted = false;
  for (const auto& n : inv.notes) noted |= n.path == (dev / "uevent").string();
  EXPECT_TRUE(noted);
  fsys::remove_all(tmp);
}

}  // namespace
}  // namespace exliar
