#include "boot/cmdline.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "boot/params.h"

namespace exliar::boot {
namespace {

using V = std::vector<std::string>;

Cmdline P(std::string_view s, Quoting q = Quoting::kernel) {
  auto c = Cmdline::parse(s, q);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return *c;
}

TEST(Cmdline, KeepsOrderDuplicatesAndQuotes) {
  auto c = P("console=ttyS0,115200 console=tty0  foo=\"a b\"\tquiet quiet");
  EXPECT_EQ(c.words(),
            (V{"console=ttyS0,115200", "console=tty0", "foo=\"a b\"", "quiet", "quiet"}));
  EXPECT_TRUE(c.tokens()[2].value_quoted);
  EXPECT_EQ(c.tokens()[2].key, "foo");
}

TEST(Cmdline, ShellDoubleUndoesEscapes) {
  auto c = P(R"(quiet acpi_osi=\"Windows 2015\" x=\$y)", Quoting::shell_double);
  EXPECT_EQ(c.words(), (V{"quiet", "acpi_osi=\"Windows 2015\"", "x=$y"}));
}

TEST(Cmdline, AddAppendsOnceWithOneSpace) {
  auto c = P("quiet  splash\t");
  EXPECT_TRUE(*c.add("iommu=pt"));
  EXPECT_EQ(c.raw(), "quiet  splash iommu=pt\t");
  EXPECT_FALSE(*c.add("iommu=pt"));
  EXPECT_EQ(c.raw(), "quiet  splash iommu=pt\t");
}

TEST(Cmdline, KeyDashesAndUnderscoresAreEqual) {
  auto c = P("vfio_pci.ids=10de:1b80");
  EXPECT_TRUE(c.contains("vfio-pci.ids=10de:1b80"));
  EXPECT_FALSE(*c.add("vfio-pci.ids=10de:1b80"));
  EXPECT_TRUE(c.remove_key("vfio-pci.ids"));
  EXPECT_EQ(c.raw(), "");
}

TEST(Cmdline, RemoveFirstMiddleLast) {
  auto c = P("a b\t c");
  EXPECT_TRUE(c.remove("a"));
  EXPECT_EQ(c.raw(), "b\t c");
  c = P("a b\t c");
  EXPECT_TRUE(c.remove("b"));
  EXPECT_EQ(c.raw(), "a\t c");  // the whitespace before a removed token goes with it
  c = P("a b c\n");
  EXPECT_TRUE(c.remove("c"));
  EXPECT_EQ(c.raw(), "a b\n");
  EXPECT_FALSE(c.remove("zzz"));
}

TEST(Cmdline, SetReplacesLastInPlace) {
  auto c = P("iommu=1 quiet iommu=on splash");
  EXPECT_TRUE(*c.set("iommu", "pt"));
  EXPECT_EQ(c.raw(), "iommu=1 quiet iommu=pt splash");
  EXPECT_FALSE(*c.set("iommu", "pt"));
  EXPECT_TRUE(*c.set("new", "1"));
  EXPECT_EQ(c.raw(), "iommu=1 quiet iommu=pt splash new=1");
}

TEST(Cmdline, MergeAndUnmergeCommaLists) {
  auto c = P("quiet vfio-pci.ids=10de:1b80,10de:10f0 splash");
  EXPECT_TRUE(*c.merge("vfio_pci.ids", "10de:10f0,1002:73bf"));
  EXPECT_EQ(c.raw(), "quiet vfio-pci.ids=10de:1b80,10de:10f0,1002:73bf splash");
  EXPECT_FALSE(*c.merge("vfio-pci.ids", "1002:73bf"));
  EXPECT_TRUE(*c.unmerge("vfio-pci.ids", "1002:73bf"));
  EXPECT_EQ(c.raw(), "quiet vfio-pci.ids=10de:1b80,10de:10f0 splash");
  EXPECT_TRUE(*c.unmerge("vfio-pci.ids", "10de:1b80"));
  EXPECT_EQ(c.raw(), "quiet vfio-pci.ids=10de:10f0 splash");
  EXPECT_TRUE(*c.unmerge("vfio-pci.ids", "10de:10f0"));
  EXPECT_EQ(c.raw(), "quiet splash");
}

TEST(Cmdline, MergeIntoQuotedValueIsRefused) {
  auto c = P("rd.driver.pre=\"a,b\"");
  EXPECT_FALSE(c.merge("rd.driver.pre", "c"));
}

TEST(Cmdline, EncodesForItsQuotingLayer) {
  auto d = P("quiet", Quoting::shell_double);
  EXPECT_TRUE(*d.add("acpi_osi=\"Windows 2015\""));
  EXPECT_EQ(d.raw(), R"(quiet acpi_osi=\"Windows 2015\")");
  EXPECT_TRUE(d.remove("acpi_osi=\"Windows 2015\""));
  EXPECT_EQ(d.raw(), "quiet");
  auto s = P("quiet", Quoting::shell_single);
  EXPECT_FALSE(s.add("a='b'"));
}

TEST(Cmdline, RejectsUnbalancedQuotesAndNul) {
  EXPECT_FALSE(Cmdline::parse("a \"b c"));
  EXPECT_FALSE(Cmdline::parse(R"(a \"b c)", Quoting::shell_double));
  EXPECT_FALSE(Cmdline::parse("a \"b\" c\"", Quoting::shell_double));  // bare " inside "..."
  EXPECT_FALSE(Cmdline::parse(std::string("a\0b", 3)));
  auto e = Cmdline::parse("ok \"open");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("column 4"), std::string::npos) << e.error().message;
}

TEST(Cmdline, CheckParam) {
  EXPECT_TRUE(check_param("foo=\"a b\""));
  EXPECT_FALSE(check_param("a b"));
  EXPECT_FALSE(check_param(""));
  EXPECT_FALSE(check_param("x=\"open"));
}

TEST(Params, RemoveOfListItemAndKey) {
  auto c = P("vfio-pci.ids=a:b,c:d rd.driver.pre=nvme,vfio-pci quiet");
  EXPECT_TRUE(*apply_edit(c, {ParamEdit::Op::remove, "rd.driver.pre=vfio-pci"}));
  EXPECT_EQ(c.raw(), "vfio-pci.ids=a:b,c:d rd.driver.pre=nvme quiet");
  EXPECT_TRUE(*apply_edit(c, {ParamEdit::Op::remove, "vfio_pci.ids="}));
  EXPECT_EQ(c.raw(), "rd.driver.pre=nvme quiet");
}

// ---- properties -------------------------------------------------------------------------

rc::Gen<std::string> gen_word() {
  return rc::gen::exec([] {
    auto n = *rc::gen::inRange<size_t>(1, 6);
    return *rc::gen::container<std::string>(n, rc::gen::elementOf(std::string("abcxyz019_-.")));
  });
}

/// A kernel token: flag, key=value, key=a,b list, or key="quoted value".
rc::Gen<std::string> gen_token() {
  return rc::gen::oneOf(
      gen_word(),
      rc::gen::map(rc::gen::pair(gen_word(), gen_word()),
                   [](auto p) { return p.first + "=" + p.second; }),
      rc::gen::map(rc::gen::pair(gen_word(), gen_word()),
                   [](auto p) { return "vfio-pci.ids=" + p.first + "," + p.second; }),
      rc::gen::map(rc::gen::pair(gen_word(), gen_word()),
                   [](auto p) { return p.first + "=\"" + p.second + " " + p.first + "\""; }));
}

struct Line {
  std::vector<std::string> tokens;
  std::string text;
};

rc::Gen<Line> gen_line() {
  return rc::gen::exec([] {
    Line l;
    l.tokens =
        *rc::gen::container<std::vector<std::string>>(*rc::gen::inRange<size_t>(0, 8), gen_token());
    auto ws = [] {
      return *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(1, 3),
                                              rc::gen::elementOf(std::string(" \t")));
    };
    if (*rc::gen::arbitrary<bool>()) l.text += ws();
    for (size_t i = 0; i < l.tokens.size(); ++i) l.text += (i ? ws() : "") + l.tokens[i];
    if (*rc::gen::arbitrary<bool>()) l.text += ws();
    return l;
  });
}

RC_GTEST_PROP(CmdlineProps, NoTokenLostQuotingPreserved, ()) {
  auto l = *gen_line();
  auto c = Cmdline::parse(l.text);
  RC_ASSERT(c.has_value());
  RC_ASSERT(c->words() == l.tokens);
  for (const auto& t : c->tokens()) RC_ASSERT(l.text.substr(t.begin, t.end - t.begin) == t.text);
}

RC_GTEST_PROP(CmdlineProps, AddIsIdempotentAndRemoveRestoresBytes, ()) {
  auto l = *gen_line();
  auto x = "zz" + *gen_token();  // a key no generated token has
  for (auto q : {Quoting::kernel, Quoting::shell_double}) {
    std::string text = l.text;
    if (q == Quoting::shell_double) {
      std::string esc;
      for (char ch : text) esc += ch == '"' ? std::string("\\\"") : std::string(1, ch);
      text = esc;
    }
    auto c = *Cmdline::parse(text, q);
    RC_ASSERT(*apply_edit(c, {ParamEdit::Op::add, x}));
    auto once = c.raw();
    RC_ASSERT(!*apply_edit(c, {ParamEdit::Op::add, x}));
    RC_ASSERT(c.raw() == once);
    auto w = c.words();
    RC_ASSERT(w.size() == l.tokens.size() + 1);
    RC_ASSERT(std::equal(l.tokens.begin(), l.tokens.end(), w.begin()));
    RC_ASSERT(*apply_edit(c, {ParamEdit::Op::remove, x}));
    RC_ASSERT(c.raw() == text);
    RC_ASSERT(!*apply_edit(c, {ParamEdit::Op::remove, x}));
  }
}

RC_GTEST_PROP(CmdlineProps, MergeRoundTripsAndRemoveDropsOnlyMatches, ()) {
  auto l = *gen_line();
  auto c = *Cmdline::parse(l.text);
  std::string item = "zz" + *gen_word();
  RC_ASSERT(*apply_edit(c, {ParamEdit::Op::add, "vfio_pci.ids=" + item}));
  RC_ASSERT(!*apply_edit(c, {ParamEdit::Op::add, "vfio-pci.ids=" + item}));
  RC_ASSERT(*apply_edit(c, {ParamEdit::Op::remove, "vfio-pci.ids=" + item}));
  RC_ASSERT(c.raw() == l.text);
  if (!l.tokens.empty()) {
    auto victim = *rc::gen::elementOf(l.tokens);
    auto d = *Cmdline::parse(l.text);
    RC_ASSERT(d.remove(victim));
    std::vector<std::string> expect;
    for (const auto& t : l.tokens)
      if (normalize_token(t) != normalize_token(victim)) expect.push_back(t);
    RC_ASSERT(d.words() == expect);
  }
}

}  // namespace
}  // namespace exliar::boot
