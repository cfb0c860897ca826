// Reading a GPU's ROM from the running system and validating ROM files for a GPU.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "gpu/vbios.h"
#include "host/paths.h"

namespace exliar {

namespace {

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string bdf(const PciDevice& d) { return d.address.str(); }

/// Parses bytes read from src and checks them against dev; the error names src.
Result<RomInfo> validate_read(std::span<const std::uint8_t> bytes, const std::string& src,
                              const PciDevice& dev) {
  auto info = parse_rom(bytes);
  if (!info) return fail(info.error().message + "; not saved", src);
  auto ids = rom_id_problems(*info, dev.vendor_id, dev.device_id);
  info->problems.insert(info->problems.end(), ids.begin(), ids.end());
  if (!info->usable())
    return fail("the ROM read is not usable: " + info->problems.front() + "; not saved", src);
  return info;
}

/// sysfs-pci.rst: "applications should write the string "1" to the file to enable it
/// before attempting a read call, and disable it following the access by writing "0"".
Result<std::string> read_sysfs_rom(Fs& fs, const std::string& rom) {
  if (auto on = fs.write_in_place(rom, "1"); !on)
    return fail("cannot enable the ROM for reading: " + on.error().message, fs.display(rom),
                on.error().err);
  auto data = fs.read_file(rom);
  // Disable again whatever happened: a ROM BAR left enabled can decode over other
  // resources (and the kernel expects the pair).
  auto off = fs.write_in_place(rom, "0");
  if (!data) {
    std::string msg = "reading the ROM failed: " + data.error().message +
                      " (the boot GPU's ROM often cannot be read once the host has started it; "
                      "dump it while another GPU is primary, or use a file from the card vendor)";
    if (!off) msg += "; disabling it again failed too: " + off.error().describe();
    return fail(msg, fs.display(rom), data.error().err);
  }
  if (!off)
    return fail("the ROM was read but could not be disabled again: " + off.error().message,
                fs.display(rom), off.error().err);
  return data;
}

Result<DumpedRom> from_vfct(const Fs& fs, const PciDevice& dev) {
  std::string path(paths::kAcpiVfct);
  auto table = fs.read_file(path);
  if (!table) return tl::unexpected(table.error());
  auto images = parse_vfct(as_bytes(*table));
  if (!images) return fail(images.error().message, fs.display(path));
  const VfctImage* img = find_vfct_image(*images, dev);
  if (!img)
    return fail(fmt::format("the VFCT table holds {} image(s), none for {:04x}:{:04x} at {}",
                            images->size(), dev.vendor_id, dev.device_id, bdf(dev)),
                fs.display(path));
  DumpedRom out;
  auto first = as_bytes(*table).subspan(img->offset, img->length);
  out.bytes.assign(first.begin(), first.end());
  out.source = "vfct";
  out.source_path = fs.display(path);
  auto info = validate_read(out.bytes, out.source_path, dev);
  if (!info) return tl::unexpected(info.error());
  out.info = std::move(*info);
  return out;
}

}  // namespace

std::string default_rom_path(const PciDevice& d) {
  return path_join(paths::kVbiosDir, fmt::format("{:04x}-{:04x}-{:04x}-{:04x}.rom", d.vendor_id,
                                                 d.device_id, d.subsystem_vendor_id.value_or(0),
                                                 d.subsystem_device_id.value_or(0)));
}

Result<DumpedRom> dump_rom(Fs& fs, const PciDevice& dev) {
  std::string rom = path_join(dev.sysfs_path, "rom");
  bool has_rom = fs.exists(rom);
  bool amd = dev.vendor_id == 0x1002;
  bool has_vfct = amd && fs.exists(paths::kAcpiVfct);
  std::vector<std::string> notes;

  // APUs have no ROM BAR: the kernel's `rom` is the legacy shadow at 0xC0000, altered by
  // POST. amdgpu itself reads the VFCT first for them (amdgpu_get_bios_apu()).
  if (has_vfct && (!has_rom || dev.boot_vga)) {
    auto v = from_vfct(fs, dev);
    if (v) {
      if (has_rom)
        v->notes.push_back("boot GPU: used the ACPI VFCT copy instead of the shadowed sysfs ROM");
      return v;
    }
    if (!has_rom) return fail("no sysfs ROM, and " + v.error().message, v.error().path);
    notes.push_back("ACPI VFCT not used: " + v.error().describe());
  }
  if (!has_rom)
    return fail(fmt::format("{} has no ROM attribute (no ROM BAR{})", bdf(dev),
                            amd ? " and no ACPI VFCT table" : ""),
                fs.display(rom));
  // vfio-pci owns the device: the kernel's ROM read would race the VM (or return nothing
  // while the device is in D3). Dump before binding, or unbind first.
  if (dev.driver && *dev.driver == "vfio-pci")
    return fail(bdf(dev) +
                    " is bound to vfio-pci; dump its ROM before binding it, or run "
                    "`exliar unbind " +
                    bdf(dev) + "` first",
                fs.display(rom));
  auto data = read_sysfs_rom(fs, rom);
  Result<DumpedRom> out = data ? Result<DumpedRom>(DumpedRom{}) : tl::unexpected(data.error());
  if (data && data->empty())
    out = fail("the ROM read returned 0 bytes (the device may be powered down or have no ROM)",
               fs.display(rom));
  if (out) {
    out->bytes.assign(data->begin(), data->end());
    out->source = "sysfs";
    out->source_path = fs.display(rom);
    auto info = validate_read(out->bytes, out->source_path, dev);
    if (info)
      out->info = std::move(*info);
    else
      out = tl::unexpected(info.error());
  }
  if (!out && has_vfct && !dev.boot_vga) {
    // A dGPU whose ROM cannot be read: the VFCT copy is the next best (amdgpu does the same).
    if (auto v = from_vfct(fs, dev)) {
      v->notes.push_back("sysfs ROM not usable (" + out.error().describe() +
                         "); used the ACPI VFCT copy");
      return v;
    }
  }
  if (out) out->notes.insert(out->notes.begin(), notes.begin(), notes.end());
  return out;
}

Result<ValidatedRom> validate_rom_bytes(std::span<const std::uint8_t> bytes,
                                        const std::string& path, const PciDevice& dev) {
  auto info = parse_rom(bytes);
  if (!info) return fail(info.error().message, path);
  auto ids = rom_id_problems(*info, dev.vendor_id, dev.device_id);
  info->problems.insert(info->problems.end(), ids.begin(), ids.end());
  if (!info->usable()) {
    std::string msg = "the ROM file is not usable for " + bdf(dev) + ": " + info->problems.front();
    if (info->problems.size() > 1)
      msg += fmt::format(" (and {} more problem(s); see `exliar vbios check`)",
                         info->problems.size() - 1);
    return fail(msg, path);
  }
  ValidatedRom out{path, std::move(*info), {}};
  for (const auto& n : out.info.notes)
    if (n.rfind("no EFI image", 0) == 0) out.warnings.push_back(n);
  return out;
}

Result<ValidatedRom> validate_rom_for(const Fs& fs, const std::string& file, const PciDevice& dev) {
  auto data = fs.read_file(file);
  if (!data)
    return fail("cannot read the ROM file: " + data.error().message, fs.display(file),
                data.error().err);
  return validate_rom_bytes(as_bytes(*data), fs.display(file), dev);
}

Result<ValidatedRom> validate_rom_for(const std::string& file, const PciDevice& dev) {
  if (file.empty()) return fail("no ROM file given");
  std::string abs = file;
  if (abs.front() != '/') {
    char buf[4096];
    if (!::getcwd(buf, sizeof buf))
      return fail("cannot determine the current directory", file, errno);
    abs = std::string(buf) + "/" + abs;
  }
  abs = path_normalize(abs);
  // The file lives on the host running exliar (like -o), never under --root.
  auto host = RealFs::open("/");
  if (!host) return tl::unexpected(host.error());
  return validate_rom_for(*host, abs, dev);
}

}  // namespace exliar
