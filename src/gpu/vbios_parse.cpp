// The PCI expansion ROM image chain, as the firmware and the kernel walk it.
// Offsets and rules: PCI Firmware Specification 3.x §5.1 (ROM header: signature 55 AA at
// +0x00, pointer to the PCI Data Structure at +0x18; PCI Data Structure "PCIR": vendor
// +0x04, device +0x06, device list +0x08 (rev 3), length +0x0A, revision +0x0C, class
// +0x0D, image length in 512-byte units +0x10, code type +0x14, indicator +0x15 with bit 7
// = last image), Linux drivers/pci/rom.c pci_get_rom_size() for the walk itself.
#include <fmt/format.h>

#include <algorithm>

#include "gpu/vbios.h"

namespace exliar {

namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::size_t kHeaderSize = 0x1A;  // kernel PCI_ROM_HEADER_SIZE
constexpr std::size_t kPcirMin = 0x18;     // PCIR revision 0 (PCI 2.x) structure size
constexpr std::size_t kMaxImages = 64;     // real ROMs hold 1-4; stops pathological chains

std::uint16_t le16(Bytes b, std::size_t o) {
  return static_cast<std::uint16_t>(b[o] | (b[o + 1] << 8));
}
std::uint32_t le32(Bytes b, std::size_t o) {
  return static_cast<std::uint32_t>(b[o]) | (static_cast<std::uint32_t>(b[o + 1]) << 8) |
         (static_cast<std::uint32_t>(b[o + 2]) << 16) |
         (static_cast<std::uint32_t>(b[o + 3]) << 24);
}
bool has_sig(Bytes b, std::size_t o, const char* sig, std::size_t n) {
  if (o > b.size() || b.size() - o < n) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (b[o + i] != static_cast<std::uint8_t>(sig[i])) return false;
  return true;
}

std::string off(std::size_t o) { return fmt::format("0x{:x}", o); }

RomCodeType code_type_of(std::uint8_t t) {
  switch (t) {
    case 0x00:
      return RomCodeType::x86;
    case 0x01:
      return RomCodeType::open_firmware;
    case 0x02:
      return RomCodeType::pa_risc;
    case 0x03:
      return RomCodeType::efi;
    case 0x70:
      return RomCodeType::nvidia_nbsi;
    case 0xE0:
      return RomCodeType::nvidia_fwsec;
    default:
      return RomCodeType::other;
  }
}

/// Checks the ROM header and PCIR at o. Returns "" when both are valid, else the reason.
std::string header_problem(Bytes b, std::size_t o) {
  if (b.size() - o < kHeaderSize)
    return fmt::format("only {} bytes left at offset {}, a ROM header needs {}", b.size() - o,
                       off(o), kHeaderSize);
  if (b[o] != 0x55 || b[o + 1] != 0xAA)
    return fmt::format("no ROM signature at offset {} (found {:02x} {:02x}, expected 55 aa)",
                       off(o), b[o], b[o + 1]);
  std::size_t ptr = le16(b, o + 0x18);
  if (ptr == 0)
    return fmt::format("the image at offset {} has no PCI data structure pointer", off(o));
  std::size_t pcir = o + ptr;
  if (pcir > b.size() || b.size() - pcir < kPcirMin)
    return fmt::format(
        "the PCI data structure (PCIR) of the image at offset {} would be at {}, but the file "
        "ends at {}: truncated",
        off(o), off(pcir), off(b.size()));
  if (!has_sig(b, pcir, "PCIR", 4))
    return fmt::format("no \"PCIR\" signature at offset {} where the image at offset {} points",
                       off(pcir), off(o));
  std::uint16_t len = le16(b, pcir + 0x0A);
  if (len == 0 || len == 0xFFFF)
    return fmt::format("the PCIR at offset {} has an invalid length ({})", off(pcir), len);
  return {};
}

/// NVIDIA PCI Data Extension: 16-byte aligned after the PCIR, "NPDE" (nouveau npde.c
/// nvbios_npdeTe: (pcir + pcir_len + 0x0f) & ~0x0f). Its image length (+0x08, 512-byte
/// units) and last-image flag (+0x0A bit 7) take precedence over the PCIR (image.c).
struct Npde {
  std::size_t length;
  bool last;
};
std::optional<Npde> find_npde(Bytes b, std::size_t rom_start, std::size_t pcir) {
  // nouveau aligns offsets within the ROM; a vendor header before it must not shift that.
  std::size_t rel = pcir - rom_start + le16(b, pcir + 0x0A);
  std::size_t at = rom_start + ((rel + 0x0f) & ~std::size_t{0x0f});
  if (at > b.size() || b.size() - at < 0x0B || !has_sig(b, at, "NPDE", 4)) return std::nullopt;
  return Npde{static_cast<std::size_t>(le16(b, at + 0x08)) * 512, (b[at + 0x0A] & 0x80) != 0};
}

void parse_efi(Bytes b, RomImage& img, std::vector<std::string>& problems, std::size_t index) {
  // UEFI spec §14.4.2, EFI PCI Expansion ROM Header: InitializationSize +0x02 (UINT16),
  // EfiSignature +0x04 (UINT32, 0x0EF1), EfiSubsystem +0x08, EfiMachineType +0x0A,
  // CompressionType +0x0C, EfiImageHeaderOffset +0x16.
  std::size_t o = img.offset;
  RomEfiHeader e;
  e.initialization_size = le16(b, o + 0x02);
  e.signature = le32(b, o + 0x04);
  e.subsystem = le16(b, o + 0x08);
  e.machine = le16(b, o + 0x0A);
  e.compression = le16(b, o + 0x0C);
  e.image_offset = le16(b, o + 0x16);
  if (e.signature != 0x0EF1) {
    problems.push_back(fmt::format(
        "image {} at offset {} is marked EFI (code type 3) but its EFI signature is 0x{:x}, "
        "expected 0xef1",
        index, off(o), e.signature));
  } else if (e.image_offset < kHeaderSize || e.image_offset + std::size_t{2} > img.length) {
    problems.push_back(fmt::format(
        "image {} at offset {}: the EFI driver offset 0x{:x} lies outside the image ({} bytes)",
        index, off(o), e.image_offset, img.length));
  } else if (e.compression == 0) {
    // An uncompressed driver is a PE/COFF file starting with the DOS "MZ" stub.
    e.pe_found = has_sig(b, o + e.image_offset, "MZ", 2);
    if (!e.pe_found)
      problems.push_back(fmt::format("image {} at offset {}: no PE/COFF (\"MZ\") driver at +0x{:x}",
                                     index, off(o), e.image_offset));
  }
  img.efi = e;
}

void check_legacy_checksum(Bytes b, RomImage& img, std::vector<std::string>& problems,
                           std::vector<std::string>& notes, std::size_t index) {
  // The 8-bit sum over the initialization size (byte +0x02, 512-byte units) must be 0;
  // SeaBIOS (src/optionroms.c is_valid_rom) skips option ROMs that fail it.
  std::size_t n = static_cast<std::size_t>(b[img.offset + 2]) * 512;
  if (n == 0 || n > img.length) {
    notes.push_back(fmt::format(
        "image {}: initialization size {} × 512 does not fit the image; checksum taken over the "
        "image length",
        index, b[img.offset + 2]));
    n = img.length;
  }
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum = static_cast<std::uint8_t>(sum + b[img.offset + i]);
  img.checksum_ok = sum == 0;
  if (sum != 0)
    problems.push_back(fmt::format(
        "image {} at offset {} (legacy x86) has a bad checksum: the bytes sum to 0x{:02x}, not 0 "
        "(corrupted, or a modified shadow copy of the boot GPU)",
        index, off(img.offset), sum));
}

/// First offset holding 55 AA with a valid PCIR. Vendor tools (nvflash, GPU-Z) put their
/// own header before it; the search is byte-aligned (gpu-knowledge §2.5: the Matoking
/// patcher's hex-string search can match at half-byte offsets).
std::optional<std::size_t> find_first_image(Bytes b, std::string& first_reason) {
  for (std::size_t o = 0; o + kHeaderSize <= b.size(); ++o) {
    if (b[o] != 0x55 || b[o + 1] != 0xAA) continue;
    std::string why = header_problem(b, o);
    if (why.empty()) return o;
    if (first_reason.empty()) first_reason = why;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(RomCodeType t) {
  switch (t) {
    case RomCodeType::x86:
      return "x86 (legacy BIOS)";
    case RomCodeType::open_firmware:
      return "Open Firmware";
    case RomCodeType::pa_risc:
      return "PA-RISC";
    case RomCodeType::efi:
      return "EFI";
    case RomCodeType::nvidia_nbsi:
      return "NVIDIA NBSI";
    case RomCodeType::nvidia_fwsec:
      return "NVIDIA FwSec";
    case RomCodeType::other:
      return "other";
  }
  return "other";
}

const char* efi_machine_name(std::uint16_t m) {
  switch (m) {
    case 0x014C:
      return "IA-32";
    case 0x0200:
      return "Itanium";
    case 0x0EBC:
      return "EBC";
    case 0x8664:
      return "x64";
    case 0x01C2:
      return "ARM";
    case 0xAA64:
      return "AArch64";
    case 0x5064:
      return "RISC-V 64";
    default:
      return "unknown";
  }
}

const char* efi_subsystem_name(std::uint16_t s) {
  switch (s) {
    case 10:
      return "application";
    case 11:
      return "boot service driver";
    case 12:
      return "runtime driver";
    default:
      return "unknown";
  }
}

bool RomImage::matches(std::uint16_t vendor, std::uint16_t device) const {
  if (vendor != vendor_id) return false;
  return device == device_id ||
         std::find(device_list.begin(), device_list.end(), device) != device_list.end();
}

bool RomInfo::has_legacy() const {
  return std::any_of(images.begin(), images.end(),
                     [](const RomImage& i) { return i.code_type == RomCodeType::x86; });
}

bool RomInfo::has_efi() const {
  return std::any_of(images.begin(), images.end(), [](const RomImage& i) {
    return i.code_type == RomCodeType::efi && i.efi && i.efi->signature == 0x0EF1;
  });
}

Result<RomInfo> parse_rom(Bytes b) {
  if (b.empty()) return fail("the ROM image is empty (0 bytes)");
  if (std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0xFF; }))
    return fail(
        fmt::format("the ROM image is {} bytes of 0xFF, what an unmapped or disabled ROM "
                    "reads as",
                    b.size()));
  if (std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0x00; }))
    return fail(fmt::format("the ROM image is {} zero bytes", b.size()));
  if (b.size() < kHeaderSize)
    return fail(fmt::format("the ROM image is {} bytes, too small for a ROM header ({} bytes)",
                            b.size(), kHeaderSize));
  std::string first_reason;
  auto first = find_first_image(b, first_reason);
  if (!first) {
    if (first_reason.empty())
      return fail("no PCI expansion ROM signature (55 aa) found anywhere in the image: not a ROM");
    return fail("no valid PCI expansion ROM image found: " + first_reason);
  }
  RomInfo info;
  info.file_size = b.size();
  info.header_size = *first;
  if (info.header_size > 0)
    info.problems.push_back(fmt::format(
        "{} bytes precede the first ROM image (a vendor tool header, e.g. nvflash or GPU-Z); the "
        "guest would not find the ROM; remove it with `exliar vbios patch`",
        info.header_size));

  std::size_t o = *first;
  for (std::size_t index = 1;; ++index) {
    if (index > kMaxImages) {
      info.problems.push_back(fmt::format("more than {} images: not a GPU ROM", kMaxImages));
      break;
    }
    if (std::string why = header_problem(b, o); !why.empty()) {
      info.problems.push_back(fmt::format("image {}: {}", index, why));
      break;
    }
    RomImage img;
    img.offset = o;
    img.pcir_offset = le16(b, o + 0x18);
    std::size_t pcir = o + img.pcir_offset;
    if (img.pcir_offset % 4 != 0)
      info.notes.push_back(fmt::format("image {}: the PCIR offset 0x{:x} is not DWORD aligned",
                                       index, img.pcir_offset));
    img.vendor_id = le16(b, pcir + 0x04);
    img.device_id = le16(b, pcir + 0x06);
    img.pcir_revision = b[pcir + 0x0C];
    img.class_code = static_cast<std::uint32_t>(b[pcir + 0x0D]) |
                     (static_cast<std::uint32_t>(b[pcir + 0x0E]) << 8) |
                     (static_cast<std::uint32_t>(b[pcir + 0x0F]) << 16);
    img.length = static_cast<std::size_t>(le16(b, pcir + 0x10)) * 512;
    img.code_type_raw = b[pcir + 0x14];
    img.code_type = code_type_of(img.code_type_raw);
    img.last = (b[pcir + 0x15] & 0x80) != 0;
    // PCI 3.0 device list (PCI Firmware spec §5.1.3): 0-terminated IDs, offset from PCIR.
    if (std::size_t dl = le16(b, pcir + 0x08); img.pcir_revision >= 3 && dl != 0) {
      for (std::size_t p = pcir + dl; p + 2 <= b.size() && img.device_list.size() < 64; p += 2) {
        std::uint16_t id = le16(b, p);
        if (id == 0) break;
        img.device_list.push_back(id);
      }
    }
    if (img.vendor_id == 0x10DE)
      if (auto npde = find_npde(b, *first, pcir)) {
        img.npde = true;
        if (npde->length) img.length = npde->length;
        img.last = npde->last;
      }
    if (img.length == 0) {
      info.problems.push_back(
          fmt::format("image {} at offset {} has an image length of 0", index, off(o)));
      info.images.push_back(img);
      break;
    }
    if (img.length > b.size() - o) {
      info.problems.push_back(fmt::format(
          "image {} at offset {} claims {} bytes, but only {} bytes follow in the file: truncated",
          index, off(o), img.length, b.size() - o));
      info.images.push_back(img);
      break;
    }
    if (img.pcir_offset + kPcirMin > img.length)
      info.problems.push_back(
          fmt::format("image {}: its PCIR lies outside the image's {} bytes", index, img.length));
    if (img.code_type == RomCodeType::x86)
      check_legacy_checksum(b, img, info.problems, info.notes, index);
    else if (img.code_type == RomCodeType::efi)
      parse_efi(b, img, info.problems, index);
    info.images.push_back(img);
    info.end = o + img.length;
    if (img.last) break;
    o += img.length;
    // Kernel: "No more image in the PCI ROM" when a non-last image is not followed by one.
    if (o >= b.size() || b.size() - o < 2 || b[o] != 0x55 || b[o + 1] != 0xAA) {
      info.notes.push_back(
          fmt::format("image {} is not marked as the last image, but no image follows at offset {}",
                      index, off(o)));
      break;
    }
  }
  if (info.end > 0 && info.end < b.size())
    info.notes.push_back(fmt::format(
        "{} bytes follow the last image (padding or a vendor footer; guests ignore them)",
        b.size() - info.end));
  if (!info.images.empty() && !info.has_efi() && info.problems.empty())
    info.notes.push_back("no EFI image: the ROM cannot drive the GPU under OVMF (UEFI guests)");
  return info;
}

std::vector<std::string> rom_id_problems(const RomInfo& info, std::uint16_t vendor,
                                         std::uint16_t device) {
  std::vector<std::string> out;
  bool any = false;
  for (std::size_t i = 0; i < info.images.size(); ++i) {
    const RomImage& img = info.images[i];
    if (img.vendor_id != vendor)
      out.push_back(fmt::format("image {} is for vendor {:04x}, the GPU's vendor is {:04x}", i + 1,
                                img.vendor_id, vendor));
    if ((img.code_type == RomCodeType::x86 || img.code_type == RomCodeType::efi) &&
        img.matches(vendor, device))
      any = true;
  }
  if (!any && out.empty())
    out.push_back(
        fmt::format("no legacy or EFI image is for device {:04x}:{:04x} (the ROM is for "
                    "another GPU model)",
                    vendor, device));
  return out;
}

Result<std::vector<std::uint8_t>> strip_rom_header(Bytes b) {
  auto info = parse_rom(b);
  if (!info) return tl::unexpected(info.error());
  std::vector<std::uint8_t> out(b.begin() + static_cast<std::ptrdiff_t>(info->header_size),
                                b.end());
  auto again = parse_rom(out);
  if (!again) return tl::unexpected(again.error());
  if (!again->usable())
    return fail("the image is not usable even without the header: " + again->problems.front());
  return out;
}

}  // namespace exliar
