// Pure edits of initramfs generator configuration: mkinitcpio arrays (multi-line, comments,
// string form), dracut lists, initramfs-tools modules, booster.yaml.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "modules/initramfs/booster.h"
#include "modules/initramfs/dracut.h"
#include "modules/initramfs/initramfs_tools.h"
#include "modules/initramfs/mkinitcpio.h"
#include "modules/initramfs/shell_assign.h"

namespace exliar {
namespace {

const std::vector<std::string> kOurs = {"vfio_pci", "vfio", "vfio_iommu_type1"};
const std::vector<std::string> kForbidden = {"vfio_virqfd"};
const std::vector<std::string> kNatives = {"amdgpu", "nouveau", "i915", "snd_hda_intel"};

std::string edit(std::string_view t) {
  auto r = mkinitcpio_edit_modules(t, "mkinitcpio.conf", kOurs, kForbidden, kNatives);
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  return r ? *r : std::string();
}

TEST(ShellAssign, FindsArraysStringsAndSkipsComments) {
  auto r = parse_shell_assignments(
      "# MODULES=(commented)\nMODULES=(a 'b c' \"d\" # note\n  e)\nX=\"1 2\"\necho "
      "\"MODULES=(no)\"\n",
      "f");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "MODULES");
  ASSERT_EQ((*r)[0].words.size(), 4u);
  EXPECT_EQ((*r)[0].words[1].value, "b c");
  EXPECT_EQ((*r)[0].words[3].value, "e");
  EXPECT_EQ((*r)[0].line, 2);
  EXPECT_EQ((*r)[1].form, ShAssign::Form::dquote);
  EXPECT_EQ((*r)[1].words.size(), 2u);
}

TEST(ShellAssign, NeverClosedArrayNamesTheOpeningLine) {
  auto r = parse_shell_assignments("A=1\nMODULES=(a\n b\n", "/etc/mkinitcpio.conf");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().line, 2);
  EXPECT_NE(r.error().message.find("never closed"), std::string::npos);
  auto q = parse_shell_assignments("MODULES=\"a b\n", "f");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().line, 1);
  auto nested = parse_shell_assignments("MODULES=(a b\nHOOKS=(base)\n", "f");
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().line, 2);
}

TEST(Mkinitcpio, MovesVfioBeforeNativeDrivers) {
  EXPECT_EQ(edit("MODULES=(amdgpu iwlmvm vfio_pci vfio vfio_iommu_type1)\n"),
            "MODULES=(vfio_pci vfio vfio_iommu_type1 amdgpu iwlmvm)\n");
}

TEST(Mkinitcpio, AlreadyInOrderIsLeftAlone) {
  std::string t = "MODULES=(btrfs vfio_pci vfio vfio_iommu_type1 amdgpu)\n";
  EXPECT_EQ(edit(t), t);
}

TEST(Mkinitcpio, MultiLineArrayWithComments) {
  std::string t =
      "MODULES=(\n"
      "  # storage first\n"
      "  btrfs   # root fs\n"
      "  amdgpu\n"
      "  vfio_pci\n"
      "  vfio_virqfd\n"
      ")\n"
      "HOOKS=(base udev modconf)\n";
  EXPECT_EQ(edit(t),
            "MODULES=(vfio_pci vfio vfio_iommu_type1\n"
            "  # storage first\n"
            "  btrfs   # root fs\n"
            "  amdgpu\n"
            ")\n"
            "HOOKS=(base udev modconf)\n");
}

TEST(Mkinitcpio, StringFormAndEmptyAndMissing) {
  EXPECT_EQ(edit("MODULES=\"amdgpu\"\n"), "MODULES=\"vfio_pci vfio vfio_iommu_type1 amdgpu\"\n");
  EXPECT_EQ(edit("MODULES=()\n"), "MODULES=(vfio_pci vfio vfio_iommu_type1)\n");
  EXPECT_EQ(edit("HOOKS=(base)"), "HOOKS=(base)\nMODULES=(vfio_pci vfio vfio_iommu_type1)\n");
  // The last assignment is the one bash keeps.
  EXPECT_EQ(edit("MODULES=(a)\nMODULES=(b)\n"),
            "MODULES=(a)\nMODULES=(vfio_pci vfio vfio_iommu_type1 b)\n");
}

TEST(Mkinitcpio, FilesAppendedOnceAndDropIn) {
  auto r = mkinitcpio_add_files("FILES=()\n", "f", {"/a", "/b"});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "FILES=(/a /b)\n");
  auto again = mkinitcpio_add_files(*r, "f", {"/a", "/b"});
  EXPECT_EQ(*again, *r);
  auto ml = mkinitcpio_add_files("FILES=(\n  /x\n)\n", "f", {"/a"});
  EXPECT_EQ(*ml, "FILES=(\n  /x\n/a\n)\n");
  EXPECT_EQ(mkinitcpio_dropin(kOurs, {"/etc/modprobe.d/exliar-vfio.conf"})
                .find("MODULES=(vfio_pci vfio "
                      "vfio_iommu_type1 \"${MODULES[@]}\")"),
            mkinitcpio_dropin(kOurs, {}).find("MODULES=("));
}

TEST(Dracut, RemovesForbiddenAndLints) {
  std::string t =
      "add_drivers+=\"vfio vfio_iommu_type1 vfio_pci vfio_virqfd\"\nomit_drivers+=\" vfio_pci \"\n";
  auto r = dracut_remove_drivers(t, "vfio.conf", kForbidden);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "add_drivers+=\"vfio vfio_iommu_type1 vfio_pci\"\nomit_drivers+=\" vfio_pci \"\n");
  auto w = dracut_lint(t, "vfio.conf");
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 2u);
  EXPECT_NE((*w)[0].find("vfio.conf:1:"), std::string::npos);
  EXPECT_NE((*w)[1].find("omit_drivers"), std::string::npos);
  EXPECT_EQ(dracut_conf(kOurs, {"/x"}),
            "# Written by exliar; `exliar rollback` removes it.\n"
            "# force_drivers puts the VFIO modules in the initramfs and loads them early, so\n"
            "# vfio-pci claims the passed-through devices before their native drivers load.\n"
            "force_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"
            "install_items+=\" /x \"\n");
}

TEST(InitramfsTools, InsertsBeforeNativeKeepsComments) {
  std::string t = "# header\nraid1\n# gpu\namdgpu\nvfio_virqfd\n";
  EXPECT_EQ(initramfs_tools_edit_modules(t, kOurs, kForbidden, kNatives),
            "# header\nraid1\n# gpu\nvfio_pci\nvfio\nvfio_iommu_type1\namdgpu\n");
  std::string done = "vfio_pci\nvfio\nvfio_iommu_type1\n";
  EXPECT_EQ(initramfs_tools_edit_modules(done, kOurs, kForbidden, kNatives), done);
  EXPECT_EQ(initramfs_tools_edit_modules("raid1", kOurs, kForbidden, kNatives),
            "raid1\nvfio_pci\nvfio\nvfio_iommu_type1\n");
  // A line giving our module options stays where it is.
  EXPECT_EQ(initramfs_tools_edit_modules("vfio_pci ids=10de:1b81\n", kOurs, kForbidden, kNatives),
            "vfio_pci ids=10de:1b81\nvfio\nvfio_iommu_type1\n");
}

TEST(Booster, EditsForceLoadKeepingComment) {
  auto r = booster_edit("compression: zstd\nmodules_force_load: amdgpu,vfio_pci # mine\n", "b",
                        kOurs, kForbidden, kNatives);
  ASSERT_TRUE(r);
  EXPECT_EQ(
      *r, "compression: zstd\nmodules_force_load: vfio_pci,vfio,vfio_iommu_type1,amdgpu # mine\n");
  auto added = booster_edit("universal: true", "b", kOurs, kForbidden, kNatives);
  EXPECT_EQ(*added, "universal: true\nmodules_force_load: vfio_pci,vfio,vfio_iommu_type1\n");
  auto same = booster_edit(*added, "b", kOurs, kForbidden, kNatives);
  EXPECT_EQ(*same, *added);
  auto bad = booster_edit("a: 1\nmodules_force_load: [x, y]\n", "booster.yaml", kOurs, kForbidden,
                          kNatives);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().line, 2);
}

RC_GTEST_PROP(ShellAssign, ParserNeverCrashesAndEditIsIdempotent, (const std::string& junk)) {
  std::string text = "MODULES=(" + junk + ")\n";
  auto r = parse_shell_assignments(text, "f");
  if (!r) return;  // a clean error is fine
  auto once = mkinitcpio_edit_modules(text, "f", kOurs, kForbidden, kNatives);
  if (!once) return;
  auto twice = mkinitcpio_edit_modules(*once, "f", kOurs, kForbidden, kNatives);
  RC_ASSERT(twice.has_value());
  RC_ASSERT(*twice == *once);
}

RC_GTEST_PROP(Mkinitcpio, KeepsEveryOtherWordInOrder, (const std::vector<std::string>& raw)) {
  // Words made of [a-z0-9_] only, so the array is valid bash.
  std::vector<std::string> words;
  for (const auto& w : raw) {
    std::string clean;
    for (char c : w)
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') clean += c;
    if (!clean.empty()) words.push_back(clean);
  }
  std::string text = "MODULES=(";
  for (size_t i = 0; i < words.size(); ++i) text += (i ? (i % 3 ? " " : "\n  ") : "") + words[i];
  text += ")\n";
  auto out = mkinitcpio_edit_modules(text, "f", kOurs, kForbidden, kNatives);
  RC_ASSERT(out.has_value());
  auto as = parse_shell_assignments(*out, "f");
  RC_ASSERT(as.has_value());
  std::vector<std::string> others, before;
  for (const auto& w : (*as)[0].words)
    if (std::find(kOurs.begin(), kOurs.end(), w.value) == kOurs.end()) others.push_back(w.value);
  for (const auto& w : words)
    if (std::find(kOurs.begin(), kOurs.end(), w) == kOurs.end() && w != "vfio_virqfd")
      before.push_back(w);
  RC_ASSERT(others == before);
  for (size_t i = 0; i < kOurs.size(); ++i) RC_ASSERT((*as)[0].words.at(i).value == kOurs[i]);
}

}  // namespace
}  // namespace exliar
