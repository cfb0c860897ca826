#include "host/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace exliar {
namespace {

namespace fsys = std::filesystem;

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-fs-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fsys::create_directories(dir_ + "/root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    fsys::create_directories(dir_ + "/root/sys/bus/pci/devices");
    fsys::create_directories(dir_ + "/root/etc");
    std::ofstream(dir_ + "/root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor")
        << "0x10de\n";
    fsys::create_directory_symlink("../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0",
                                   dir_ + "/root/sys/bus/pci/devices/0000:01:00.0");
    std::ofstream(dir_ + "/secret") << "outside";
    fsys::create_symlink("../../secret", dir_ + "/root/etc/escape-rel");
    fsys::create_symlink(dir_ + "/secret", dir_ + "/root/etc/escape-abs");
  }
  void TearDown() override { fsys::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FsTest, OpenRefusesMissingRootAndFile) {
  EXPECT_FALSE(RealFs::open(dir_ + "/nope"));
  EXPECT_FALSE(RealFs::open(dir_ + "/secret"));
  auto err = RealFs::open(dir_ + "/secret").error();
  EXPECT_NE(err.describe().find("not a directory"), std::string::npos);
}

TEST_F(FsTest, RelativeSymlinksResolveInsideRoot) {
  auto fs = RealFs::open(dir_ + "/root");
  ASSERT_TRUE(fs);
  auto v = fs->read_file("/sys/bus/pci/devices/0000:01:00.0/vendor");
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_EQ(*v, "0x10de\n");
  auto real = resolve_link(*fs, "/sys/bus/pci/devices/0000:01:00.0");
  ASSERT_TRUE(real);
  EXPECT_EQ(*real, "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
}

TEST_F(FsTest, EscapesAreRefused) {
  auto fs = RealFs::open(dir_ + "/root");
  ASSERT_TRUE(fs);
  auto rel = fs->read_file("/etc/escape-rel");
  ASSERT_FALSE(rel);
  EXPECT_NE(rel.error().describe().find("outside the root"), std::string::npos);
  EXPECT_FALSE(fs->read_file("/etc/escape-abs"));
  EXPECT_FALSE(fs->read_file("/../secret"));
  EXPECT_FALSE(resolve_link(*fs, "/etc/escape-rel"));
  EXPECT_FALSE(resolve_link(*fs, "/etc/escape-abs"));
}

TEST_F(FsTest, AtomicWriteReplacesAndKeepsNoTempFiles) {
  auto fs = RealFs::open(dir_ + "/root");
  ASSERT_TRUE(fs);
  ASSERT_TRUE(fs->write_atomic("/etc/x.conf", "one\n", 0600));
  ASSERT_TRUE(fs->write_atomic("/etc/x.conf", "two\n", 0640));
  EXPECT_EQ(*fs->read_file("/etc/x.conf"), "two\n");
  EXPECT_EQ(fs->stat("/etc/x.conf")->mode, 0640u);
  auto names = fs->list_dir("/etc");
  ASSERT_TRUE(names);
  for (const auto& n : *names) EXPECT_EQ(n.find("exliar-tmp"), std::string::npos) << n;
}

TEST_F(FsTest, MakeDirsReportsCreatedOutermostFirst) {
  auto fs = RealFs::open(dir_ + "/root");
  ASSERT_TRUE(fs);
  auto made = fs->make_dirs("/var/lib/exliar/transactions");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->size(), 4u);
  EXPECT_EQ((*made)[0], "/var");
  EXPECT_EQ((*made)[3], "/var/lib/exliar/transactions");
  EXPECT_TRUE(fs->make_dirs("/var/lib/exliar")->empty());
}

TEST(PathTest, NormalizeAndParts) {
  EXPECT_EQ(path_normalize("/a/./b//c/../d"), "/a/b/d");
  EXPECT_EQ(path_normalize("/.."), "");
  EXPECT_EQ(path_normalize("/"), "/");
  EXPECT_EQ(path_basename("/a/b/"), "b");
  EXPECT_EQ(path_dirname("/a/b"), "/a");
  EXPECT_EQ(path_dirname("/a"), "/");
  EXPECT_EQ(path_join("/a/", "/b"), "/a/b");
}

}  // namespace
}  // namespace exliar
