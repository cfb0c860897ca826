// kernelstub's JSON configuration reader: errors, never crashes.
#include <cstdint>
#include <string_view>

#include "boot/entry_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)exliar::boot::parse_kernelstub_config(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
