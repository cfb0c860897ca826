// Every real file in tests/data/boot: add the IOMMU + vfio parameters, check that only
// the managed line changed, remove what was added and get the original bytes back.
#include <gtest/gtest.h>

#include "boot/backend.h"
#include "boot/entry_files.h"
#include "boot/grub.h"
#include "boot_test_util.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::boot {
namespace {

using test::changed_lines;
using test::data;

std::vector<std::vector<std::string>> param_sets() {
  ManagedParamsInput intel{CpuVendor::intel, Initramfs::dracut, {"10de:1b80", "10de:10f0"}};
  ManagedParamsInput amd{CpuVendor::amd, Initramfs::mkinitcpio, {"1002:73bf", "1002:ab28"}};
  amd.acs_override = true;
  amd.acs_value = "id:1022:43b4";  // merges into an existing pcie_acs_override= list
  amd.framebuffer = FramebufferQuirk::automatic;
  amd.kernel = "6.8.0-49-generic";
  return {*managed_params(intel), *managed_params(amd)};
}

bool ends_with(const std::string& s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

/// Edits with the file's own editor; returns (edited text, applied edits).
std::pair<std::string, std::vector<ParamEdit>> edit(const std::string& name, std::string text,
                                                    const std::vector<ParamEdit>& edits) {
  std::vector<ParamEdit> applied;
  if (ends_with(name, ".etc-default-grub")) {
    std::vector<GrubSource> src{{"/etc/default/grub", text}};
    auto r = edit_grub(src, edits, false);
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().describe());
    if (r) applied = *r;
    text = src[0].text;
  } else if (ends_with(name, ".loader-entry.conf")) {
    auto r = edit_loader_entry(text, edits);
    EXPECT_TRUE(r) << name;
    if (r) applied = *r;
  } else if (ends_with(name, ".etc-kernel-cmdline") || ends_with(name, ".proc-cmdline")) {
    auto r = edit_kernel_cmdline_file(text, edits);
    EXPECT_TRUE(r) << name;
    if (r) applied = *r;
  } else {
    ADD_FAILURE() << "no editor for " << name;
  }
  return {text, applied};
}

std::vector<std::string> effective(const std::string& name, const std::string& text) {
  if (ends_with(name, ".etc-default-grub")) {
    auto ev = evaluate_grub({{"/etc/default/grub", text}});
    auto w = grub_words(*ev, kGrubLinux);
    for (auto& x : grub_words(*ev, kGrubDefault)) w.push_back(x);
    return w;
  }
  if (ends_with(name, ".loader-entry.conf")) {
    auto e = parse_loader_entry(text);
    return *region_words(text, e->options());
  }
  return *region_words(text, {*parse_kernel_cmdline_file(text)});
}

TEST(RealData, EveryFileRoundTripsByteForByte) {
  int files = 0, checked = 0;
  for (const auto& name : test::data_files()) {
    if (ends_with(name, ".json")) continue;  // kernelstub: edited by commands, see below
    ++files;
    const std::string original = data(name);
    for (const auto& params : param_sets()) {
      SCOPED_TRACE(name);
      auto [after, applied] = edit(name, original, add_edits(params));
      // Only one line (the managed one) differs; every other byte is identical.
      auto diff = changed_lines(original, after);
      EXPECT_LE(diff.size(), 1u);
      EXPECT_EQ(diff.empty(), applied.empty());
      // Every requested parameter is in effect afterwards.
      auto words = effective(name, after);
      for (const auto& p : params) {
        auto items = p.substr(p.find('=') + 1);
        bool found = false;
        for (const auto& w : words)
          found = found || normalize_token(w) == normalize_token(p) ||
                  (is_list_key(p.substr(0, p.find('='))) && w.find(items) != std::string::npos);
        EXPECT_TRUE(found) << p;
      }
      // Idempotent: a second add changes nothing.
      auto [again, applied2] = edit(name, after, add_edits(params));
      EXPECT_EQ(again, after);
      EXPECT_TRUE(applied2.empty());
      // Removing what was added gives back the original bytes.
      auto [back, undone] = edit(name, after, reverse_edits(applied));
      EXPECT_EQ(back, original);
      EXPECT_EQ(undone.size(), applied.size());
      ++checked;
    }
  }
  EXPECT_GE(files, 7);
  EXPECT_EQ(checked, files * 2);
}

TEST(RealData, ProxmoxGrubKeepsExistingIntelIommuAndEditsTheLiveLine) {
  auto original = data("proxmox-ve-intel-iommu.etc-default-grub");
  auto [after, applied] =
      edit("x.etc-default-grub", original, add_edits({"intel_iommu=on", "iommu=pt"}));
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].param, "iommu=pt");
  EXPECT_EQ(changed_lines(original, after), (std::vector<int>{10}));  // not the commented line 9
  EXPECT_NE(after.find("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"\n"),
            std::string::npos);
}

TEST(RealData, ElementaryCommentedDuplicateUntouched) {
  auto original = data("elementaryos-amd-iommu-single-gpu.etc-default-grub");
  auto [after, applied] =
      edit("x.etc-default-grub", original, add_edits({"vfio-pci.ids=1002:73bf"}));
  EXPECT_EQ(changed_lines(original, after), (std::vector<int>{10}));
  // iommu=1 and amd_iommu=on are the user's: exliar does not touch them.
  EXPECT_NE(
      after.find(
          "iommu=1 amd_iommu=on iommu=pt transparent_hugepage=never vfio-pci.ids=1002:73bf\""),
      std::string::npos);
}

TEST(RealData, AcsOverrideListIsMergedNotDuplicated) {
  auto original = data("arch-zen-acs-override-i915-gvt-arc.loader-entry.conf");
  auto [after, applied] =
      edit("x.loader-entry.conf", original, add_edits({"pcie_acs_override=id:1022:43b4"}));
  EXPECT_NE(after.find("pcie_acs_override=downstream,multifunction,id:1022:43b4 rw\n"),
            std::string::npos);
}

TEST(RealData, KernelstubPlanIsCommands) {
  test::TempRoot root;
  root.write(std::string(paths::kEtcKernelstubConfig),
             data("popos-kernelstub.etc-kernelstub-configuration.json"));
  auto fs = root.fs();
  System sys;
  sys.bootloader = Bootloader::kernelstub;
  auto be = select_backend(fs, sys);
  ASSERT_TRUE(be);
  auto cfg = (*be)->read(fs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(
      cfg->entries.at(0).params,
      (std::vector<std::string>{"loglevel=7", "resume=UUID=c117c9f9-83e4-48cb-b425-451d605fb21b",
                                "systemd.show_status=true"}));
  auto plan = (*be)->plan(fs, add_edits(param_sets()[0]));
  ASSERT_TRUE(plan) << plan.error().describe();
  // Only additions: one kernelstub call for all of them (each call copies the kernel and
  // initramfs to the ESP again), undone by one -d of the same list.
  ASSERT_EQ(plan->steps.size(), 1u);
  auto c = std::get<RunCommand>(plan->steps[0].action);
  ASSERT_EQ(c.argv.size(), 3u);
  EXPECT_EQ(c.argv[1], "-a");
  auto words = split(c.argv[2], ' ');
  EXPECT_EQ(words.size(), 4u);
  EXPECT_NE(std::find(words.begin(), words.end(), "vfio-pci.ids=10de:1b80,10de:10f0"), words.end());
  EXPECT_EQ(c.undo_argv, (std::vector<std::string>{"kernelstub", "-d", c.argv[2]}));
  // Already-present options produce nothing.
  auto none = (*be)->plan(fs, add_edits({"loglevel=7"}));
  EXPECT_TRUE(none->steps.empty());
  // A plan that also deletes (a merged comma list: -d the old token, -a the new) keeps one
  // call per option.
  root.write(std::string(paths::kEtcKernelstubConfig),
             "{\"user\": {\"kernel_options\": [\"quiet\", \"vfio-pci.ids=10de:1b80\"]}}");
  auto mixed = (*be)->plan(fs, add_edits({"vfio-pci.ids=10de:10f0", "iommu=pt"}));
  ASSERT_TRUE(mixed) << mixed.error().describe();
  EXPECT_EQ(mixed->steps.size(), 3u);
}

}  // namespace
}  // namespace exliar::boot
