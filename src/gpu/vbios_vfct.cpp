// The ACPI "VFCT" table: AMD's UEFI GOP driver leaves a copy of the VBIOS there for the OS,
// the only reliable source for APUs (they have no ROM BAR). Layout from Linux
// drivers/gpu/drm/amd/include/atombios.h (UEFI_ACPI_VFCT, VFCT_IMAGE_HEADER,
// GOP_VBIOS_CONTENT) and the walk in amdgpu_bios.c amdgpu_acpi_vfct_bios():
//   0x00 ACPI table header (36 bytes: "VFCT", u32 length, ...)
//   0x24 TableUUID[16]   0x34 u32 VBIOSImageOffset   0x38 u32 Lib1ImageOffset
//   0x3C u32 Reserved[4] -> 76 bytes
//   at VBIOSImageOffset, back to back: VFCT_IMAGE_HEADER (28 bytes: u32 PCIBus,
//   u32 PCIDevice, u32 PCIFunction, u16 VendorID, u16 DeviceID, u16 SSVID, u16 SSID,
//   u32 Revision, u32 ImageLength) followed by ImageLength bytes of ROM.
#include <fmt/format.h>

#include "gpu/vbios.h"

namespace exliar {

namespace {

constexpr std::size_t kAcpiHeader = 36;
constexpr std::size_t kVfctHeader = 76;
constexpr std::size_t kImageHeader = 28;

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t o) {
  return static_cast<std::uint16_t>(b[o] | (b[o + 1] << 8));
}
std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t o) {
  return static_cast<std::uint32_t>(b[o]) | (static_cast<std::uint32_t>(b[o + 1]) << 8) |
         (static_cast<std::uint32_t>(b[o + 2]) << 16) |
         (static_cast<std::uint32_t>(b[o + 3]) << 24);
}

}  // namespace

Result<std::vector<VfctImage>> parse_vfct(std::span<const std::uint8_t> t) {
  if (t.size() < kAcpiHeader || t[0] != 'V' || t[1] != 'F' || t[2] != 'C' || t[3] != 'T')
    return fail("not an ACPI VFCT table (no \"VFCT\" signature)");
  std::size_t length = le32(t, 4);
  if (length > t.size())
    return fail(
        fmt::format("the VFCT table says it is {} bytes long, but only {} were read: truncated",
                    length, t.size()));
  // The kernel trusts the header length; anything read past it is not part of the table.
  auto tbl = t.first(length);
  if (tbl.size() < kVfctHeader)
    return fail(fmt::format("the VFCT table is {} bytes, too short for its {}-byte header",
                            tbl.size(), kVfctHeader));
  std::size_t offset = le32(tbl, 0x34);
  if (offset < kVfctHeader || offset > tbl.size())
    return fail(fmt::format("the VFCT image offset 0x{:x} lies outside the {}-byte table", offset,
                            tbl.size()));
  std::vector<VfctImage> out;
  while (offset < tbl.size()) {
    if (tbl.size() - offset < kImageHeader)
      return fail(fmt::format("VFCT image header at 0x{:x} is truncated", offset));
    VfctImage img;
    img.bus = le32(tbl, offset + 0);
    img.dev = le32(tbl, offset + 4);
    img.fn = le32(tbl, offset + 8);
    img.vendor_id = le16(tbl, offset + 12);
    img.device_id = le16(tbl, offset + 14);
    img.subsystem_vendor_id = le16(tbl, offset + 16);
    img.subsystem_device_id = le16(tbl, offset + 18);
    img.revision = le32(tbl, offset + 20);
    img.length = le32(tbl, offset + 24);
    img.offset = offset + kImageHeader;
    if (img.length > tbl.size() - img.offset)
      return fail(fmt::format("VFCT image at 0x{:x} claims {} bytes, only {} remain: truncated",
                              img.offset, img.length, tbl.size() - img.offset));
    offset = img.offset + img.length;
    out.push_back(img);
    if (out.size() > 256) return fail("the VFCT table holds more than 256 images: corrupt");
  }
  return out;
}

const VfctImage* find_vfct_image(const std::vector<VfctImage>& images, const PciDevice& dev) {
  const VfctImage* by_id = nullptr;
  int id_matches = 0;
  for (const auto& img : images) {
    // amdgpu skips records with ImageLength 0.
    if (img.length == 0 || img.vendor_id != dev.vendor_id || img.device_id != dev.device_id)
      continue;
    if (img.bus == dev.address.bus && img.dev == dev.address.dev && img.fn == dev.address.fn)
      return &img;
    by_id = &img;
    ++id_matches;
  }
  // Firmware records the bus number it assigned; the kernel may renumber buses
  // (pci=assign-busses, hotplug bridges). One record with the right IDs is still ours.
  return id_matches == 1 ? by_id : nullptr;
}

}  // namespace exliar
