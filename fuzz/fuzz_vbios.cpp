// libFuzzer harness for the VBIOS parsers: parse_rom, strip_rom_header, parse_vfct and
// the lookups over their results. Every input must return (no crash, no sanitizer
// report) and the results must stay inside the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gpu/vbios.h"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace exliar;
  std::span<const std::uint8_t> bytes(data, size);

  if (auto info = parse_rom(bytes)) {
    require(info->header_size < size);
    require(info->end <= size);
    require(!info->images.empty());
    for (const auto& img : info->images) require(img.offset < size);
    (void)rom_id_problems(*info, 0x10de, 0x1d01);
    (void)info->has_efi();
  }

  if (auto stripped = strip_rom_header(bytes)) {
    // What patch writes must itself be a usable ROM that starts with its first image.
    require(stripped->size() <= size);
    auto again = parse_rom(*stripped);
    require(again.has_value() && again->usable() && again->header_size == 0);
  }

  if (auto images = parse_vfct(bytes)) {
    for (const auto& img : *images) require(img.offset <= size && img.length <= size - img.offset);
    PciDevice dev;
    dev.vendor_id = 0x1002;
    dev.device_id = 0x1636;
    (void)find_vfct_image(*images, dev);
  }
  return 0;
}
