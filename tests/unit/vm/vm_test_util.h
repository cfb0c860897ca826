// Shared by the vm tests: hand-made inventories, temp files, libvirt's own validators.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>
#include <string>

#include "host/runner.h"
#include "probe/inventory.h"
#include "vm/vm_xml.h"

namespace exliar::vm::test {

inline PciAddress addr(const char* s) { return *parse_pci_address(s); }

inline PciDevice device(const char* a, std::uint16_t ven, std::uint16_t dev, std::uint32_t cls,
                        std::optional<int> group = 1) {
  PciDevice d;
  d.address = addr(a);
  d.vendor_id = ven;
  d.device_id = dev;
  d.class_code = cls;
  d.iommu_group = group;
  return d;
}

/// A Turing card with all four functions (VGA, HD audio, USB xHCI, UCSI), as on an RTX 2070.
inline Inventory turing_inventory(Isolation iso = Isolation::isolated) {
  Inventory inv;
  inv.devices = {device("0000:00:01.0", 0x8086, 0x1901, 0x060400),
                 device("0000:0a:00.0", 0x10de, 0x1f02, 0x030000),
                 device("0000:0a:00.1", 0x10de, 0x10f9, 0x040300),
                 device("0000:0a:00.2", 0x10de, 0x1ada, 0x0c0330),
                 device("0000:0a:00.3", 0x10de, 0x1adb, 0x0c8000),
                 device("0000:0b:00.0", 0x8086, 0x15f3, 0x020000)};
  Gpu g;
  g.address = addr("0000:0a:00.0");
  g.vendor = GpuVendor::nvidia;
  g.functions = {addr("0000:0a:00.0"), addr("0000:0a:00.1"), addr("0000:0a:00.2"),
                 addr("0000:0a:00.3")};
  g.iommu_group = 1;
  g.isolation = iso;
  if (iso == Isolation::shared) g.shared_with = {addr("0000:0b:00.0")};
  inv.gpus = {g};
  return inv;
}

/// The snippets vm-xml --legacy-nvidia-driver gives a GeForce card (pre-R465 guest driver).
inline VmSnippets code43_snippets() {
  VmSnippets s;
  s.reason =
      "--legacy-nvidia-driver: GeForce drivers older than R465 stop with Code 43 when they see "
      "KVM";
  s.hide_kvm = true;
  s.hyperv_vendor_id = "exliar";
  s.ioapic_kvm = true;
  return s;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string source_path(const std::string& rel) {
  return std::string(EXLIAR_SOURCE_DIR) + "/" + rel;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "exliar-vm-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// libvirt's own checks: the RelaxNG schema (virt-xml-validate) and the test driver's parser
/// (virsh -c test:///default define). A missing tool is a failure, never a skip: CI installs
/// libvirt-clients and libxml2-utils (scripts/install-deps.sh).
inline void expect_libvirt_accepts(const std::string& xml, const std::string& what) {
  TempDir dir;
  std::string file = dir.path() + "/domain.xml";
  write_text(file, xml);
  ProcessRunner process;
  Runner& runner = process;
  auto v = runner.run({"virt-xml-validate", file, "domain"});
  ASSERT_TRUE(v) << "virt-xml-validate could not run (install libvirt-clients, libxml2-utils): "
                 << v.error().describe();
  EXPECT_EQ(v->exit_code, 0) << what << ": virt-xml-validate failed:\n" << v->out << v->err << xml;
  auto d = runner.run({"virsh", "-q", "-c", "test:///default", "define", file});
  ASSERT_TRUE(d) << "virsh could not run (install libvirt-clients): " << d.error().describe();
  EXPECT_EQ(d->exit_code, 0) << what << ": virsh define failed:\n" << d->out << d->err << xml;
}

/// Golden file compare; EXLIAR_UPDATE_GOLDEN=1 rewrites it.
inline void expect_golden(const std::string& rel, const std::string& actual) {
  std::string path = source_path(rel);
  const char* upd = std::getenv("EXLIAR_UPDATE_GOLDEN");
  if (upd && std::string(upd) == "1") {
    write_text(path, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing; run with EXLIAR_UPDATE_GOLDEN=1 and review the diff";
  EXPECT_EQ(read_text(path), actual)
      << "golden " << rel << " differs; EXLIAR_UPDATE_GOLDEN=1 regenerates it";
}

}  // namespace exliar::vm::test
