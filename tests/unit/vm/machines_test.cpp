// Golden outputs for every GPU of every test machine (tests/machines/<name>, built into
// ${EXLIAR_BINARY_DIR}/machines/<name>), each patched domain checked by libvirt's own tools,
// and the CLI end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "gpu/db.h"
#include "probe/probe.h"
#include "vm_test_util.h"

namespace exliar::vm {
namespace {

using namespace test;
namespace fs = std::filesystem;

const char* kTemplate = "tests/data/vm/win11-q35.xml";

std::vector<std::string> machine_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(source_path("tests/machines")))
    if (e.is_directory() && fs::exists(e.path() / "manifest")) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

std::string machine_root(const std::string& name) {
  return std::string(EXLIAR_BINARY_DIR) + "/machines/" + name;
}

std::string file_stem(const PciAddress& a) {
  std::string s = a.str();
  std::replace(s.begin(), s.end(), ':', '_');
  return s;
}

/// The vendor snippets the CLI uses: the embedded GPU database's verdict.
VmSnippets snippets_for(const Inventory& inv, const Gpu& gpu) {
  static const auto db = gpu::load_embedded_gpu_db();
  EXPECT_TRUE(db) << db.error().describe();
  return db ? vendor_snippets(inv, gpu, *db) : VmSnippets{};
}

TEST(Machines, EveryGpuOfEveryMachine) {
  auto names = machine_names();
  if (names.empty()) GTEST_SKIP() << "no fixture machines (tests/machines/*/manifest) in this tree";
  int gpus = 0;
  std::string tmpl = read_text(source_path(kTemplate));
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(fs::exists(machine_root(name) + "/sys"))
        << machine_root(name) << " is not built (build target `machines`)";
    auto rootfs = RealFs::open(machine_root(name));
    ASSERT_TRUE(rootfs);
    Inventory inv = probe(*rootfs);
    for (const auto& gpu : inv.gpus) {
      SCOPED_TRACE(gpu.address.str());
      ++gpus;
      auto p = make_passthrough(gpu, inv.devices, snippets_for(inv, gpu));
      ASSERT_TRUE(p);
      ASSERT_EQ(p->functions.size(), gpu.functions.size());
      std::string base = "tests/golden/vm/" + name + "/" + file_stem(gpu.address);
      expect_golden(base + ".fragment.xml", fragment_xml(*p));
      expect_golden(base + ".qemu.txt", qemu_args_text(*p));
      auto patched = patch_domain(tmpl, *p, kTemplate);
      ASSERT_TRUE(patched) << patched.error().describe();
      expect_golden(base + ".win11-q35.xml", patched->xml);
      expect_libvirt_accepts(patched->xml, name + " " + gpu.address.str());
      auto again = patch_domain(patched->xml, *p);
      ASSERT_TRUE(again);
      EXPECT_FALSE(again->changed);
      // Lint of our own output: only the host's isolation can be reported.
      auto host = RealFs::open("/");
      auto lint = lint_domain(patched->xml, inv, *host);
      ASSERT_TRUE(lint);
      for (const auto& f : *lint)
        EXPECT_TRUE(f.id == "not-isolated" || f.id == "no-iommu") << f.id << ": " << f.message;
      EXPECT_EQ(lint->empty(), gpu.isolation == Isolation::isolated);
    }
  }
  EXPECT_GE(gpus, static_cast<int>(names.size()));
}

struct Cli {
  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), EXLIAR_EXE);
    ProcessRunner process;
    Runner& r = process;
    auto res = r.run(args);
    EXPECT_TRUE(res);
    return res ? *res : CommandResult{};
  }
};

TEST(Cli, DomainPatchWritesAtomicallyAndIsIdempotent) {
  const std::string name = "z370-ubuntu";
  if (!fs::exists(source_path("tests/machines/" + name + "/manifest"))) GTEST_SKIP();
  auto rootfs = RealFs::open(machine_root(name));
  ASSERT_TRUE(rootfs);
  Inventory inv = probe(*rootfs);
  const Gpu* dgpu = nullptr;
  for (const auto& g : inv.gpus)
    if (!g.integrated && g.functions.size() > 1) dgpu = &g;
  ASSERT_TRUE(dgpu);
  TempDir dir;
  std::string out1 = dir.path() + "/one.xml", out2 = dir.path() + "/two.xml";
  Cli cli;
  auto r = cli.run({"--root", machine_root(name), "vm-xml", "--gpu", dgpu->address.str(),
                    "--domain", source_path(kTemplate), "-o", out1});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(read_text(out1), read_text(source_path("tests/golden/vm/" + name + "/" +
                                                   file_stem(dgpu->address) + ".win11-q35.xml")));
  r = cli.run({"--root", machine_root(name), "vm-xml", "--gpu", dgpu->address.str(), "--domain",
               out1, "-o", out2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(out1), read_text(out2));
  EXPECT_NE(r.err.find("nothing to add"), std::string::npos) << r.err;

  // lint: our output is clean (exit 0); the bare template with the GPU alone is not (exit 1)
  r = cli.run({"--root", machine_root(name), "vm-xml", "--check", out1});
  EXPECT_EQ(r.exit_code, dgpu->isolation == Isolation::isolated ? 0 : 1) << r.out << r.err;
  std::string tmpl = read_text(source_path(kTemplate));
  auto p = make_passthrough(*dgpu, inv.devices, snippets_for(inv, *dgpu));
  Passthrough only_gpu = *p;
  only_gpu.functions.resize(1);
  write_text(out2, patch_domain(tmpl, only_gpu)->xml);
  r = cli.run({"--root", machine_root(name), "--json", "vm-xml", "--check", out2});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\"missing-audio\""), std::string::npos) << r.out;

  r = cli.run(
      {"--root", machine_root(name), "vm-xml", "--gpu", dgpu->address.str(), "--format", "qemu"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("vfio-pci,host=" + dgpu->address.str()), std::string::npos) << r.out;

  r = cli.run({"--root", machine_root(name), "vm-xml", "--gpu", "0000:7f:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dgpu->address.str()), std::string::npos) << "lists the GPUs: " << r.err;
  r = cli.run({"--root", machine_root(name), "vm-xml", "--gpu", dgpu->address.str(), "--rom",
               dir.path() + "/none.rom"});
  EXPECT_EQ(r.exit_code, 3);
}

}  // namespace
}  // namespace exliar::vm
