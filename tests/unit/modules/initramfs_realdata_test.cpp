// Every real captured file in tests/data/initramfs: install it on a temp root, plan the
// modules steps, run them, check that only the words exliar owns changed, undo, and check
// the original bytes are back.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "modules/initramfs/backend.h"
#include "modules/modprobe.h"
#include "modules_test_util.h"

namespace exliar {
namespace {

using namespace modules_test;

const std::set<std::string> kOwned = {"vfio_pci", "vfio", "vfio_iommu_type1", "vfio_virqfd",
                                      "/etc/modprobe.d/exliar-vfio.conf"};

/// Tokens of a config text outside the module names exliar owns, in order: what must
/// survive an edit unchanged.
std::vector<std::string> foreign_tokens(const std::string& text) {
  std::vector<std::string> out;
  std::regex tok(R"re([^\s()"=+]+)re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), tok); it != std::sregex_iterator();
       ++it)
    if (!kOwned.count(it->str())) out.push_back(it->str());
  return out;
}

std::vector<KernelModules> kernels_62() {
  KernelModules k;
  k.version = "6.8.0-1";
  k.have_index = true;
  for (auto m : {"vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1"})
    k.modules[m] = ModuleState::module;
  return {k};
}

InitramfsInput input() {
  InitramfsInput in;
  in.modules = {"vfio_pci", "vfio", "vfio_iommu_type1"};
  in.forbidden = {"vfio_virqfd"};
  in.native_drivers = {"amdgpu"};
  in.files = {"/etc/modprobe.d/exliar-vfio.conf"};
  in.kernels = kernels_62();
  return in;
}

struct Case {
  std::string install_as;  ///< where the file goes on the temp root
  Result<InitramfsOutput> (*steps)(const Fs&, const InitramfsInput&);
};

Case case_for(const std::string& name) {
  if (name.find(".mkinitcpio.conf") != std::string::npos)
    return {"/etc/mkinitcpio.conf", mkinitcpio_steps};
  if (name.find(".dracut.conf.d_") != std::string::npos)
    return {"/etc/dracut.conf.d/vfio.conf", dracut_steps};
  return {"/etc/modprobe.d/vfio.conf", nullptr};
}

TEST(InitramfsRealData, EveryFileEditsOnlyWhatWeOwnAndReverts) {
  std::vector<std::string> names;
  for (const auto& e : sfs::directory_iterator(data_dir()))
    if (e.path().filename() != "SOURCES.md") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 4u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    std::string original = slurp(data_dir() + "/" + name);
    Case c = case_for(name);
    TempRoot root;
    root.write(c.install_as, original);
    auto fs = RealFs::open(root.dir());
    ASSERT_TRUE(fs);
    auto before_tree = snapshot(root.dir());
    if (!c.steps) {
      // modprobe.d: never edited, only read for conflicts (its ids= fights ours).
      auto w = modprobe_conflicts(c.install_as, original, ModprobeConfig{{"1002:67df"}});
      ASSERT_EQ(w.size(), 1u);
      EXPECT_NE(w[0].find("/etc/modprobe.d/vfio.conf:1:"), std::string::npos);
      auto d = parse_modprobe_conf(original);
      ASSERT_EQ(d.size(), 7u);
      EXPECT_EQ(d[6].command, "softdep");
      EXPECT_EQ(d[6].module, "nvme");  // the last line has no final newline
      continue;
    }
    auto out = c.steps(*fs, input());
    ASSERT_TRUE(out) << out.error().describe();
    MiniTx tx;
    ASSERT_TRUE(tx.run(*fs, out->steps));
    std::string edited = root.read(c.install_as);
    EXPECT_EQ(foreign_tokens(edited), foreign_tokens(original)) << edited;
    EXPECT_EQ(edited.find("vfio_virqfd"), std::string::npos);
    if (c.install_as == "/etc/mkinitcpio.conf") {
      // vfio_pci now precedes every native GPU driver.
      auto v = edited.find("vfio_pci"),
           n = std::min(edited.find("MODULES=(amdgpu"), edited.find("i915"));
      EXPECT_LT(v, edited.find("amdgpu") == std::string::npos ? n : edited.find("amdgpu"));
      EXPECT_LT(v, n == std::string::npos ? edited.size() : edited.find("i915"));
      EXPECT_NE(edited.find("FILES=(/etc/modprobe.d/exliar-vfio.conf)"), std::string::npos);
    } else {
      EXPECT_EQ(edited, "add_drivers+=\"vfio vfio_iommu_type1 vfio_pci\"\n");
      EXPECT_TRUE(root.exists("/etc/dracut.conf.d/exliar-vfio.conf"));
      EXPECT_EQ(out->warnings.size(), 1u);  // no spaces inside the quotes
    }
    // Revert: every step undone, in reverse, gives the original tree back byte for byte.
    for (auto it = out->steps.rbegin(); it != out->steps.rend(); ++it)
      ASSERT_TRUE(MiniTx::undo(*fs, *it));
    EXPECT_EQ(root.read(c.install_as), original);
    EXPECT_EQ(snapshot(root.dir()), before_tree);
  }
}

TEST(InitramfsRealData, MkinitcpioWithDropInsLeavesTheMainFileAlone) {
  std::string original = slurp(data_dir() + "/arch-zen-vfio-i915-kvmgt-mdev-lz4.mkinitcpio.conf");
  TempRoot root;
  root.write("/etc/mkinitcpio.conf", original);
  sfs::create_directories(root.dir() + "/etc/mkinitcpio.conf.d");
  auto fs = RealFs::open(root.dir());
  auto out = mkinitcpio_steps(*fs, input());
  ASSERT_TRUE(out) << out.error().describe();
  ASSERT_EQ(out->steps.size(), 2u);
  auto* e = std::get_if<EditFile>(&out->steps[0].action);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "/etc/mkinitcpio.conf.d/exliar-vfio.conf");
  EXPECT_FALSE(e->before);
  EXPECT_NE(e->after->find("MODULES=(vfio_pci vfio vfio_iommu_type1 \"${MODULES[@]}\")"),
            std::string::npos);
  EXPECT_EQ(commands(out->steps), (std::vector<std::vector<std::string>>{{"mkinitcpio", "-P"}}));
}

}  // namespace
}  // namespace exliar
