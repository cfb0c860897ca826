// A fixture root for vbios tests: a temp dir with a sysfs PCI device (plain `rom` file)
// and an optional ACPI VFCT table, plus an Fs that records writes to `rom` files.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "host/fs.h"
#include "host/paths.h"
#include "unit/gpu/vbios_builders.h"

namespace exliar::testing {

struct DeviceSpec {
  std::string address = "0000:01:00.0";
  std::uint16_t vendor = 0x10de, device = 0x1d01, ssv = 0x1458, ssd = 0x3771;
  std::uint32_t class_code = 0x030000;
  std::string driver;  ///< "" = none
  bool boot_vga = false;
  std::optional<Rom> rom;  ///< contents of the plain `rom` file; nullopt = no attribute
};

inline void write_file(const std::string& p, const void* data, std::size_t n) {
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}
inline void write_text(const std::string& p, const std::string& s) {
  write_file(p, s.data(), s.size());
}
inline std::string read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

class FixtureRoot {
 public:
  FixtureRoot() {
    char tmpl[] = "/tmp/exliar-vbios-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~FixtureRoot() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

  /// Lays the device out as the kernel does: /sys/devices/pci0000:00/<addr> plus the
  /// relative /sys/bus/pci/devices/<addr> symlink.
  std::string add_device(const DeviceSpec& d) {
    std::string dev = dir_ + std::string(paths::kSysDevices) + "/pci0000:00/" + d.address;
    char buf[16];
    auto hex = [&](const char* attr, std::uint32_t v, int width) {
      std::snprintf(buf, sizeof buf, "0x%0*x\n", width, v);
      write_text(dev + "/" + attr, buf);
    };
    hex("vendor", d.vendor, 4);
    hex("device", d.device, 4);
    hex("subsystem_vendor", d.ssv, 4);
    hex("subsystem_device", d.ssd, 4);
    hex("class", d.class_code, 6);
    write_text(dev + "/boot_vga", d.boot_vga ? "1\n" : "0\n");
    if (d.rom) write_file(dev + "/rom", d.rom->data(), d.rom->size());
    if (!d.driver.empty()) {
      std::filesystem::create_directories(dir_ + std::string(paths::kPciDrivers) + "/" + d.driver);
      std::filesystem::create_directory_symlink("../../../bus/pci/drivers/" + d.driver,
                                                dev + "/driver");
    }
    std::string links = dir_ + std::string(paths::kPciDevices);
    std::filesystem::create_directories(links);
    std::filesystem::create_directory_symlink("../../../devices/pci0000:00/" + d.address,
                                              links + "/" + d.address);
    return dev;
  }
  void add_vfct(const Rom& table) {
    write_file(dir_ + std::string(paths::kAcpiVfct), table.data(), table.size());
  }

 private:
  std::string dir_;
};

/// Delegates to a RealFs, but writes into files named `rom` are recorded, not performed
/// (a plain file stands in for the sysfs attribute). read_rom_fails makes reads of `rom` fail.
class RomRecordingFs final : public Fs {
 public:
  explicit RomRecordingFs(RealFs real) : real_(std::move(real)) {}
  std::vector<std::string> rom_writes;
  bool read_rom_fails = false;
  bool enable_fails = false;

  const std::string& root() const override { return real_.root(); }
  Result<std::string> read_file(std::string_view p) const override {
    if (read_rom_fails && path_basename(p) == "rom") return fail("cannot read", display(p), EIO);
    return real_.read_file(p);
  }
  Result<std::string> read_link(std::string_view p) const override { return real_.read_link(p); }
  Result<std::vector<std::string>> list_dir(std::string_view p) const override {
    return real_.list_dir(p);
  }
  Result<FileStat> stat(std::string_view p, bool follow) const override {
    return real_.stat(p, follow);
  }
  Status write_atomic_via(std::string_view p, std::string_view c, mode_t m,
                          std::string_view t) override {
    return real_.write_atomic_via(p, c, m, t);
  }
  Status write_in_place(std::string_view p, std::string_view c) override {
    if (path_basename(p) == "rom") {
      rom_writes.emplace_back(c);
      if (enable_fails && c == "1") return fail("cannot write", display(p), EINVAL);
      return {};
    }
    return real_.write_in_place(p, c);
  }
  Status remove(std::string_view p) override { return real_.remove(p); }
  Status make_dir(std::string_view p, mode_t m) override { return real_.make_dir(p, m); }
  Status chown(std::string_view p, uid_t u, gid_t g) override { return real_.chown(p, u, g); }
  Status chmod(std::string_view p, mode_t m) override { return real_.chmod(p, m); }
  Status symlink(std::string_view t, std::string_view p) override { return real_.symlink(t, p); }

 private:
  RealFs real_;
};

}  // namespace exliar::testing
