// Cmdline::parse on every quoting layer; an accepted line must round-trip an add/remove
// byte for byte (the model's central promise).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "boot/params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto q = static_cast<exliar::boot::Quoting>(data[0] % 4);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto c = exliar::boot::Cmdline::parse(text, q);
  if (!c) return 0;
  for (const auto* p : {"zz_fuzz=1", "vfio_pci.ids=ffff:fffe"}) {
    std::string before = c->raw();
    auto key = std::string_view(p).substr(0, std::string_view(p).find('='));
    if (c->last_with_key(key) >= 0) continue;
    auto added = exliar::boot::apply_edit(*c, {exliar::boot::ParamEdit::Op::add, p});
    if (!added) continue;  // e.g. a shell_single value cannot take every byte
    if (!*added || !c->contains(p)) std::abort();
    auto removed = exliar::boot::apply_edit(*c, {exliar::boot::ParamEdit::Op::remove, p});
    if (!removed || !*removed || c->raw() != before) std::abort();
  }
  return 0;
}
