// A last line ending in a line continuation (issue 14 item 14, found by fuzzing: every
// apply appended another MODULES= line) and one CRLF rule for every edited file (item 16).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/text.h"
#include "modules/initramfs/backend.h"
#include "modules/initramfs/initramfs_tools.h"
#include "modules/initramfs/mkinitcpio.h"
#include "modules/initramfs/shell_assign.h"

namespace exliar {
namespace {

namespace fsys = std::filesystem;

const std::vector<std::string> kOurs = {"vfio_pci", "vfio", "vfio_iommu_type1"};
const std::vector<std::string> kNatives = {"amdgpu"};

std::string corpus(const std::string& name) {
  std::ifstream in(std::string(EXLIAR_SOURCE_DIR) + "/fuzz/corpus/fuzz_modules_initramfs/" + name,
                   std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(Continuation, MkinitcpioEndingInBackslashReachesAFixedPoint) {
  // The minimized fuzz input, kept in the corpus: a file that is one backslash.
  for (std::string text :
       {corpus("trailing-backslash.mkinitcpio.conf"), std::string("HOOKS=(base) \\"),
        std::string("HOOKS=(base) \\\n"), std::string("X=1 \\\\\n")}) {
    SCOPED_TRACE(text);
    auto once = mkinitcpio_edit_modules(text, "f", kOurs, {}, kNatives);
    ASSERT_TRUE(once) << once.error().describe();
    auto as = parse_shell_assignments(*once, "f");
    ASSERT_TRUE(as);
    bool found = false;
    for (const auto& a : *as) found |= a.name == "MODULES";
    EXPECT_TRUE(found) << *once;
    auto twice = mkinitcpio_edit_modules(*once, "f", kOurs, {}, kNatives);
    ASSERT_TRUE(twice);
    EXPECT_EQ(*twice, *once);
    auto files = mkinitcpio_add_files(text, "f", {"/etc/x"});
    ASSERT_TRUE(files);
    auto files2 = mkinitcpio_add_files(*files, "f", {"/etc/x"});
    ASSERT_TRUE(files2);
    EXPECT_EQ(*files2, *files);
  }
}

TEST(Continuation, SharedAppendNeverGluesToAContinuedLine) {
  EXPECT_EQ(append_own_line("a \\", "B=1"), "a \\\n\nB=1\n");
  EXPECT_EQ(append_own_line("a \\\n", "B=1"), "a \\\n\nB=1\n");
  EXPECT_EQ(append_own_line("a \\\\\n", "B=1"), "a \\\\\nB=1\n");  // escaped backslash
  EXPECT_EQ(append_own_line("a", "B=1"), "a\nB=1\n");
  // initramfs-tools reads its list with `read` (no -r), which continues lines too.
  std::string it = initramfs_tools_edit_modules("# list\nfoo \\\n", kOurs, {}, kNatives);
  EXPECT_EQ(it, "# list\nfoo \\\n\nvfio_pci\nvfio\nvfio_iommu_type1\n");
  EXPECT_EQ(initramfs_tools_edit_modules(it, kOurs, {}, kNatives), it);
}

// Item 16: CR line ends are refused, naming file and line, for every file exliar edits:
// the initramfs-tools list and dracut drop-ins now say what GRUB files always said.
TEST(LineEnds, CrIsRefusedForEveryEditedFile) {
  char tmpl[] = "/tmp/exliar-crlf-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  fsys::create_directories(root + "/etc/initramfs-tools");
  std::ofstream(root + "/etc/initramfs-tools/modules") << "# modules\r\nloop\r\n";
  auto fs = RealFs::open(root);
  ASSERT_TRUE(fs);
  auto r = read_config(*fs, "/etc/initramfs-tools/modules");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("CR line end"), std::string::npos);
  EXPECT_EQ(r.error().line, 1);
  EXPECT_NE(r.error().path.find("/etc/initramfs-tools/modules"), std::string::npos);
  std::ofstream(root + "/etc/initramfs-tools/modules") << "# modules\nloop\r\n";
  auto r2 = read_config(*fs, "/etc/initramfs-tools/modules");
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().line, 2);
  auto lf = check_line_ends("a\nb\n");
  EXPECT_TRUE(lf);
  fsys::remove_all(root);
}

}  // namespace
}  // namespace exliar
