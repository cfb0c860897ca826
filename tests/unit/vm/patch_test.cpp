// Domain mode: the patched document validates with libvirt, is idempotent and keeps
// everything it does not own.
#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <set>

#include "host/text.h"
#include "vm_test_util.h"

namespace exliar::vm {
namespace {

using namespace test;

const char* kTemplate = "tests/data/vm/win11-q35.xml";
const char* kI440fx = "tests/data/vm/legacy-i440fx.xml";

Passthrough turing(VmSnippets s = {}) {
  auto inv = turing_inventory();
  return *make_passthrough(inv.gpus[0], inv.devices, s);
}

/// Removes what the patch adds (our hostdevs with their comments, controllers absent from the
/// original, the snippet features) and re-serialises: the rest must equal the original.
std::string minus_added(const std::string& xml, const std::string& original) {
  pugi::xml_document orig;
  orig.load_string(original.c_str());
  std::set<std::string> orig_controllers;
  for (auto c : orig.child("domain").child("devices").children("controller"))
    orig_controllers.insert(std::string(c.attribute("type").value()) +
                            c.attribute("index").value());
  pugi::xml_document doc;
  doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_comments);
  auto devices = doc.child("domain").child("devices");
  for (auto n = devices.first_child(); n;) {
    auto next = n.next_sibling();
    bool ours = false;
    if (n.type() == pugi::node_comment)
      ours = std::string_view(n.value()).find(" 0000:0a:00.") == 0;
    if (std::string_view(n.name()) == "hostdev")
      ours =
          std::string_view(n.child("source").child("address").attribute("bus").value()) == "0x0a";
    if (std::string_view(n.name()) == "controller")
      ours = !orig_controllers.count(std::string(n.attribute("type").value()) +
                                     n.attribute("index").value());
    if (ours) devices.remove_child(n);
    n = next;
  }
  auto f = doc.child("domain").child("features");
  if (!orig.child("domain").child("features").child("kvm")) f.remove_child("kvm");
  if (!orig.child("domain").child("features").child("ioapic")) f.remove_child("ioapic");
  f.child("hyperv").remove_child("vendor_id");
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_indent | pugi::format_no_declaration);
  return os.str();
}

std::string canonical(const std::string& xml) { return minus_added(xml, xml); }

/// Only insertions: every original line is still there, in order, byte for byte.
void expect_only_insertions(const std::string& original, const std::string& patched) {
  auto a = split_lines(original), b = split_lines(patched);
  std::size_t j = 0;
  for (auto line : b)
    if (j < a.size() && line == a[j]) ++j;
  EXPECT_EQ(j, a.size()) << "original line " << j + 1
                         << " was changed or lost: " << (j < a.size() ? std::string(a[j]) : "")
                         << "\n"
                         << patched;
}

TEST(Patch, TemplateGainsTheGpuAndStillValidates) {
  std::string original = read_text(source_path(kTemplate));
  expect_libvirt_accepts(original, "template as shipped");
  auto r = patch_domain(original, turing(code43_snippets()), kTemplate);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(r->changed);
  expect_libvirt_accepts(r->xml, "patched template");
  expect_only_insertions(original, r->xml);
  EXPECT_EQ(minus_added(r->xml, original), canonical(original));
  expect_golden("tests/golden/vm/synthetic-turing.win11-q35.xml", r->xml);

  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r->xml.c_str()));
  auto dom = doc.child("domain");
  // every root port of the template is taken (bus 1-5), so a sixth one is added for the GPU
  auto port = dom.child("devices").find_child_by_attribute("controller", "index", "6");
  ASSERT_TRUE(port);
  EXPECT_STREQ(port.attribute("model").value(), "pcie-root-port");
  int n = 0;
  for (auto h : dom.child("devices").children("hostdev")) {
    EXPECT_STREQ(h.child("address").attribute("bus").value(), "0x06");
    ++n;
  }
  EXPECT_EQ(n, 4);
  EXPECT_STREQ(dom.child("features").child("kvm").child("hidden").attribute("state").value(), "on");
  EXPECT_STREQ(dom.child("features").child("hyperv").child("vendor_id").attribute("value").value(),
               "exliar");
  EXPECT_TRUE(dom.child("features").child("hyperv").child("relaxed"));
}

TEST(Patch, SecondRunAddsNothing) {
  std::string original = read_text(source_path(kTemplate));
  auto once = patch_domain(original, turing(code43_snippets()));
  ASSERT_TRUE(once);
  auto twice = patch_domain(once->xml, turing(code43_snippets()));
  ASSERT_TRUE(twice);
  EXPECT_FALSE(twice->changed) << join(twice->actions, "\n");
  EXPECT_EQ(twice->xml, once->xml);
}

TEST(Patch, UsesAFreeRootPortWhenThereIsOne) {
  std::string original = read_text(source_path(kTemplate));
  // drop the memballoon's address line: root port 5 becomes free
  auto pos = original.find("      <address type='pci' domain='0x0000' bus='0x05'");
  ASSERT_NE(pos, std::string::npos);
  original.erase(pos, original.find('\n', pos) + 1 - pos);
  auto r = patch_domain(original, turing());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->xml.find("index='6'"), std::string::npos);
  EXPECT_NE(r->xml.find("bus='0x05' slot='0x00' function='0x3'"), std::string::npos) << r->xml;
  EXPECT_EQ(r->xml.find("<features>\n    <acpi/>"), r->xml.find("<features>"));
  expect_libvirt_accepts(r->xml, "patched into a free root port");
}

TEST(Patch, RejoinsSplitFunctionsAndAddsTheMissingOnes) {
  std::string original = read_text(source_path(kTemplate));
  std::string hostdevs =
      "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
      "      <source>\n"
      "        <address domain='0x0000' bus='0x0a' slot='0x00' function='0x0'/>\n"
      "      </source>\n"
      "      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>\n"
      "    </hostdev>\n"
      "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
      "      <source>\n"
      "        <address domain='0x0000' bus='0x0a' slot='0x00' function='0x1'/>\n"
      "      </source>\n"
      "    </hostdev>\n";
  auto pos = original.find("    <memballoon");
  original.insert(pos, hostdevs);
  auto r = patch_domain(original, turing());
  ASSERT_TRUE(r) << r.error().describe();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r->xml.c_str()));
  int n = 0;
  for (auto h : doc.child("domain").child("devices").children("hostdev")) {
    ++n;
    auto ga = h.child("address");
    EXPECT_STREQ(ga.attribute("bus").value(), "0x05") << "kept the user's slot for the GPU";
    EXPECT_STREQ(ga.attribute("function").value(),
                 h.child("source").child("address").attribute("function").value());
  }
  EXPECT_EQ(n, 4);
  EXPECT_NE(r->xml.find("managed='no'"), std::string::npos) << "the user's choice stays";
  EXPECT_NE(r->xml.find("function='0x0' multifunction='on'"), std::string::npos);
  auto again = patch_domain(r->xml, turing());
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
}

TEST(Patch, LegacyI440fxUsesARootBusSlotAndNoIoapic) {
  std::string original = read_text(source_path(kI440fx));
  expect_libvirt_accepts(original, "i440fx template as shipped");
  auto r = patch_domain(original, turing(code43_snippets()));
  ASSERT_TRUE(r) << r.error().describe();
  expect_libvirt_accepts(r->xml, "patched i440fx");
  expect_only_insertions(original, r->xml);
  EXPECT_EQ(r->xml.find("ioapic"), std::string::npos) << "libvirt refuses <ioapic> off q35";
  EXPECT_EQ(r->xml.find("pcie-root-port"), std::string::npos);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r->xml.c_str()));
  for (auto h : doc.child("domain").child("devices").children("hostdev")) {
    EXPECT_STREQ(h.child("address").attribute("bus").value(), "0x00");
    EXPECT_STRNE(h.child("address").attribute("slot").value(), "0x01");
    EXPECT_STRNE(h.child("address").attribute("slot").value(), "0x02");
    EXPECT_STRNE(h.child("address").attribute("slot").value(), "0x03") << "slot 3 is the disk's";
  }
  EXPECT_NE(r->xml.find("<features>"), std::string::npos);
}

TEST(Patch, KeepsBytesOutsideTheRootAndDoubleQuotes) {
  std::string original =
      "<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<domain type=\"kvm\">\n  <name>x</name>\n"
      "  <memory>1048576</memory>\n  <os>\n    <type arch=\"x86_64\" machine=\"q35\">hvm</type>\n"
      "  </os>\n  <devices/>\n</domain>\n<!-- trailer -->\n";
  auto r = patch_domain(original, turing());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(
      r->xml.rfind("<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<domain type=\"kvm\">", 0), 0u)
      << r->xml;
  EXPECT_TRUE(r->xml.ends_with("</domain>\n<!-- trailer -->\n")) << r->xml;
  EXPECT_NE(r->xml.find("<controller type=\"pci\" index=\"1\" model=\"pcie-root-port\"/>"),
            std::string::npos)
      << r->xml;
  expect_only_insertions(original.substr(0, original.find("  <devices/>")), r->xml);
  expect_libvirt_accepts(r->xml, "minimal double-quoted domain");
}

TEST(Patch, BadInputNamesFileAndLine) {
  auto r = patch_domain("<domain>\n  <name>x</name>\n  <devices>\n</domain>\n", turing(), "vm.xml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().path, "vm.xml");
  EXPECT_EQ(r.error().line, 4);
  auto wrong = patch_domain("<network><name>default</name></network>", turing(), "net.xml");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("<network>"), std::string::npos);
}

}  // namespace
}  // namespace exliar::vm
