// Synthetic option ROMs and VFCT tables for the vbios tests and the fuzz corpus. The
// layouts follow src/gpu/vbios_parse.cpp's comments (PCI Firmware spec §5.1, UEFI §14.4.2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace exliar::testing {

using Rom = std::vector<std::uint8_t>;

struct ImageSpec {
  std::uint16_t vendor = 0x10de, device = 0x1d01;
  std::uint8_t code_type = 0;  ///< 0 legacy x86, 3 EFI
  bool last = true;
  std::size_t blocks = 2;  ///< image length in 512-byte units
  std::uint32_t class_code = 0x030000;
  bool fix_checksum = true;
  std::uint32_t efi_signature = 0x0EF1;
  std::uint16_t pcir_offset = 0;      ///< 0 = default (0x40 legacy, 0x20 EFI)
  std::uint16_t length_override = 0;  ///< PCIR image length field, when not blocks
  std::vector<std::uint16_t> device_list;
  bool npde = false;
  std::uint8_t fill = 0x11;  ///< body byte
};

inline void put16(Rom& r, std::size_t o, std::uint16_t v) {
  r[o] = static_cast<std::uint8_t>(v);
  r[o + 1] = static_cast<std::uint8_t>(v >> 8);
}
inline void put32(Rom& r, std::size_t o, std::uint32_t v) {
  put16(r, o, static_cast<std::uint16_t>(v));
  put16(r, o + 2, static_cast<std::uint16_t>(v >> 16));
}

inline Rom make_image(const ImageSpec& s) {
  Rom r(s.blocks * 512, s.fill);
  r[0] = 0x55;
  r[1] = 0xAA;
  bool efi = s.code_type == 3;
  std::size_t pcir = s.pcir_offset ? s.pcir_offset : (efi ? 0x20 : 0x40);
  if (efi) {
    put16(r, 2, static_cast<std::uint16_t>(s.blocks));
    put32(r, 4, s.efi_signature);
    put16(r, 8, 11);         // boot service driver
    put16(r, 0x0A, 0x8664);  // x64
    put16(r, 0x0C, 0);       // not compressed
    for (std::size_t i = 0x0E; i < 0x16; ++i) r[i] = 0;
    put16(r, 0x16, 0x80);
    r[0x80] = 'M';
    r[0x81] = 'Z';
  } else {
    r[2] = static_cast<std::uint8_t>(s.blocks);
    r[3] = 0xEB;  // short JMP, as NVIDIA's legacy images start
    const char* video = "VIDEO";
    for (int i = 0; i < 5; ++i) r[0x0E + i] = static_cast<std::uint8_t>(video[i]);
  }
  put16(r, 0x18, static_cast<std::uint16_t>(pcir));
  if (pcir + 0x18 <= r.size()) {
    r[pcir] = 'P', r[pcir + 1] = 'C', r[pcir + 2] = 'I', r[pcir + 3] = 'R';
    put16(r, pcir + 4, s.vendor);
    put16(r, pcir + 6, s.device);
    put16(r, pcir + 8, 0);
    put16(r, pcir + 0x0A, 0x18);
    r[pcir + 0x0C] = s.device_list.empty() ? 0 : 3;
    r[pcir + 0x0D] = static_cast<std::uint8_t>(s.class_code);
    r[pcir + 0x0E] = static_cast<std::uint8_t>(s.class_code >> 8);
    r[pcir + 0x0F] = static_cast<std::uint8_t>(s.class_code >> 16);
    put16(r, pcir + 0x10,
          s.length_override ? s.length_override : static_cast<std::uint16_t>(s.blocks));
    put16(r, pcir + 0x12, 1);
    r[pcir + 0x14] = s.code_type;
    r[pcir + 0x15] = s.last ? 0x80 : 0x00;
    put16(r, pcir + 0x16, 0);
    if (!s.device_list.empty()) {
      std::size_t dl = 0x30;  // from the PCIR start
      put16(r, pcir + 8, static_cast<std::uint16_t>(dl));
      for (std::size_t i = 0; i < s.device_list.size(); ++i)
        put16(r, pcir + dl + 2 * i, s.device_list[i]);
      put16(r, pcir + dl + 2 * s.device_list.size(), 0);
    }
    if (s.npde) {
      std::size_t n = (pcir + 0x18 + 0x0f) & ~std::size_t{0x0f};
      r[n] = 'N', r[n + 1] = 'P', r[n + 2] = 'D', r[n + 3] = 'E';
      put16(r, n + 4, 0x0101);
      put16(r, n + 6, 0x0B);
      put16(r, n + 8, static_cast<std::uint16_t>(s.blocks));
      r[n + 0x0A] = s.last ? 0x80 : 0x00;
    }
  }
  if (!efi && s.fix_checksum) {
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i + 1 < r.size(); ++i) sum = static_cast<std::uint8_t>(sum + r[i]);
    r.back() = static_cast<std::uint8_t>(0x100 - sum);
  } else if (!efi) {
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i + 1 < r.size(); ++i) sum = static_cast<std::uint8_t>(sum + r[i]);
    r.back() = static_cast<std::uint8_t>(0x100 - sum + 1);  // off by one
  }
  return r;
}

inline Rom concat(std::initializer_list<Rom> parts) {
  Rom out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// A legacy image followed by an EFI image, like most GPU ROMs since ~2012.
inline Rom legacy_efi_rom(std::uint16_t vendor = 0x10de, std::uint16_t device = 0x1d01) {
  ImageSpec a;
  a.vendor = vendor, a.device = device, a.last = false, a.blocks = 4;
  ImageSpec b;
  b.vendor = vendor, b.device = device, b.code_type = 3, b.blocks = 2;
  return concat({make_image(a), make_image(b)});
}

/// What nvflash / GPU-Z dumps put before the real ROM: text, "NVGI" and no 55 AA + PCIR.
inline Rom nvidia_header(std::size_t n = 0x600) {
  Rom h(n, 0x00);
  const std::string text = "NVGI....NVIDIA Corp. ROM dump header  \x55\xAA no PCIR here";
  for (std::size_t i = 0; i < text.size() && i < n; ++i) h[i] = static_cast<std::uint8_t>(text[i]);
  return h;
}

struct VfctEntry {
  std::uint32_t bus = 0, dev = 0, fn = 0;
  std::uint16_t vendor = 0x1002, device = 0x1636, ssv = 0x17aa, ssi = 0x3801;
  Rom rom;
};

/// An ACPI VFCT table (layout in src/gpu/vbios_vfct.cpp).
inline Rom make_vfct(const std::vector<VfctEntry>& entries) {
  Rom t(76, 0);
  t[0] = 'V', t[1] = 'F', t[2] = 'C', t[3] = 'T';
  t[8] = 1;
  put32(t, 0x34, 76);
  for (const auto& e : entries) {
    std::size_t o = t.size();
    t.resize(o + 28 + e.rom.size(), 0);
    put32(t, o, e.bus);
    put32(t, o + 4, e.dev);
    put32(t, o + 8, e.fn);
    put16(t, o + 12, e.vendor);
    put16(t, o + 14, e.device);
    put16(t, o + 16, e.ssv);
    put16(t, o + 18, e.ssi);
    put32(t, o + 20, 0);
    put32(t, o + 24, static_cast<std::uint32_t>(e.rom.size()));
    std::copy(e.rom.begin(), e.rom.end(), t.begin() + static_cast<std::ptrdiff_t>(o + 28));
  }
  put32(t, 4, static_cast<std::uint32_t>(t.size()));
  return t;
}

}  // namespace exliar::testing
