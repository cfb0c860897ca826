// GPU option ROMs (VBIOS): parse the PCI expansion ROM image chain, strip vendor tool
// headers, read the ROM of a device (sysfs `rom`, or the ACPI VFCT table for AMD APUs)
// and validate a file for a GPU. The parsers are pure functions over bytes; only
// dump_rom() and validate_rom_for() touch files, through an Fs.
//
// Format references (see ../shared/knowledge/gpu-knowledge.md §5):
//   PCI Firmware Specification 3.x, §5.1 "PCI Expansion ROMs" (§5.1.1 ROM header,
//   §5.1.2 PCI Data Structure, §5.1.3 device list), UEFI Specification 2.x §14.4.2
//   "PCI Option ROMs" (EFI PCI expansion ROM header), Linux drivers/pci/rom.c
//   pci_get_rom_size(), nouveau nvkm/subdev/bios/{image,npde}.c (NVIDIA NPDE).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar {

/// PCIR code type byte (PCI Firmware spec §5.1.2; 0x70 and 0xE0 from nova-core's vbios.rs).
enum class RomCodeType { x86, open_firmware, pa_risc, efi, nvidia_nbsi, nvidia_fwsec, other };
const char* to_string(RomCodeType);

/// The EFI part of an image header (UEFI spec §14.4.2, EFI_PCI_EXPANSION_ROM_HEADER).
struct RomEfiHeader {
  std::uint16_t initialization_size = 0;  ///< 512-byte units
  std::uint32_t signature = 0;            ///< 0x0EF1 when valid
  std::uint16_t subsystem = 0;            ///< 10 application, 11 boot service, 12 runtime driver
  std::uint16_t machine = 0;              ///< 0x8664 x64, 0xAA64 AArch64, 0x0EBC EBC, ...
  std::uint16_t compression = 0;          ///< 0 none, 1 EFI compressed
  std::uint16_t image_offset = 0;         ///< PE/COFF image, from the image start
  bool pe_found = false;                  ///< "MZ" at image_offset (only looked for uncompressed)
};
const char* efi_machine_name(std::uint16_t machine);
const char* efi_subsystem_name(std::uint16_t subsystem);

struct RomImage {
  std::size_t offset = 0;       ///< from the start of the file (a vendor header included)
  std::size_t length = 0;       ///< bytes
  std::size_t pcir_offset = 0;  ///< PCIR position, relative to the image start
  std::uint16_t vendor_id = 0, device_id = 0;
  std::vector<std::uint16_t> device_list;  ///< PCI 3.0 extra device IDs
  std::uint32_t class_code = 0;            ///< base/sub/prog-if, like PciDevice::class_code
  std::uint8_t pcir_revision = 0;
  std::uint8_t code_type_raw = 0;
  RomCodeType code_type = RomCodeType::other;
  bool last = false;
  bool npde = false;  ///< NVIDIA PCI Data Extension found; its length and last flag were used
  std::optional<bool> checksum_ok;  ///< legacy x86 images only
  std::optional<RomEfiHeader> efi;  ///< EFI images only
  bool matches(std::uint16_t vendor, std::uint16_t device) const;
};

struct RomInfo {
  std::size_t file_size = 0;
  std::size_t header_size = 0;  ///< bytes before the first image (nvflash / GPU-Z dumps)
  std::vector<RomImage> images;
  std::size_t end = 0;                ///< end of the last image, from the start of the file
  std::vector<std::string> problems;  ///< each one makes the ROM unusable as it is
  std::vector<std::string> notes;     ///< worth knowing, harmless
  bool usable() const { return !images.empty() && problems.empty(); }
  bool has_legacy() const;
  bool has_efi() const;  ///< a type-3 image with a valid EFI signature (OVMF can use it)
};

/// Walks the image chain. Fails only when no image can be found at all (empty, all 0xFF,
/// no 55 AA with a valid PCIR); trouble with images that were found lands in problems.
/// Error messages name byte offsets; the caller adds the file path.
Result<RomInfo> parse_rom(std::span<const std::uint8_t> bytes);

/// Problems of a parsed ROM for this device: wrong vendor, no image for its device ID.
std::vector<std::string> rom_id_problems(const RomInfo& info, std::uint16_t vendor,
                                         std::uint16_t device);

/// patch: the bytes from the first image on, re-validated. Fails when the result would not
/// be usable. Leaves everything after the last image (NVIDIA footers, padding) in place.
Result<std::vector<std::uint8_t>> strip_rom_header(std::span<const std::uint8_t> bytes);

// ---- ACPI VFCT (AMD "VFCT" table, the VBIOS of APUs / the boot GPU handed over by UEFI)

struct VfctImage {
  std::uint32_t bus = 0, dev = 0, fn = 0;
  std::uint16_t vendor_id = 0, device_id = 0, subsystem_vendor_id = 0, subsystem_device_id = 0;
  std::uint32_t revision = 0;
  std::size_t offset = 0;  ///< of the ROM bytes, from the table start
  std::size_t length = 0;
};
/// Parses the table; every image record, in table order.
Result<std::vector<VfctImage>> parse_vfct(std::span<const std::uint8_t> table);
/// The record for this device: vendor/device and bus/dev/fn like amdgpu; when no record
/// has the bus position but exactly one has the IDs (firmware-time bus numbers, see
/// amdgpu_acpi_vfct_bios()), that one. nullptr when none fits.
const VfctImage* find_vfct_image(const std::vector<VfctImage>& images, const PciDevice& dev);

// ---- Reading a device's ROM (I/O through Fs)

struct DumpedRom {
  std::vector<std::uint8_t> bytes;
  std::string source;       ///< "sysfs" or "vfct"
  std::string source_path;  ///< as the user finds it (Fs::display)
  RomInfo info;
  std::vector<std::string> notes;  ///< e.g. why sysfs was not used
};

/// Reads and validates the ROM of dev. sysfs `rom` is enabled with "1" and ALWAYS
/// disabled with "0" afterwards, also when the read fails. Refuses devices bound to
/// vfio-pci, empty or 0xFF reads and images that do not validate or match dev's IDs.
Result<DumpedRom> dump_rom(Fs& fs, const PciDevice& dev);

/// "<kVbiosDir>/10de-1d01-1458-3771.rom" (vendor-device-subvendor-subdevice, 0000 if unknown).
std::string default_rom_path(const PciDevice& dev);

// ---- A ROM file for a VM (called by plan / vm-xml / check)

struct ValidatedRom {
  std::string path;  ///< absolute host path, as given to <rom file=.../> / romfile=
  RomInfo info;
  std::vector<std::string> warnings;  ///< non-fatal: no EFI image, ...
};

/// Reads FILE on the host running exliar (not under --root; relative to the current
/// directory), parses it and checks it against dev's vendor/device IDs. Fails with the
/// file as Error::path when unreadable, unusable (header, bad checksum, truncated ...) or
/// made for another device.
Result<ValidatedRom> validate_rom_for(const std::string& file, const PciDevice& dev);
/// The same through a given Fs (tests); file is a path inside that Fs.
Result<ValidatedRom> validate_rom_for(const Fs& fs, const std::string& file, const PciDevice& dev);
/// The same over bytes already read; path is only used in messages and the result.
Result<ValidatedRom> validate_rom_bytes(std::span<const std::uint8_t> bytes,
                                        const std::string& path, const PciDevice& dev);

}  // namespace exliar
