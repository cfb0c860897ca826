#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace exliar {

/// Index over the text of a pci.ids file. Building it is one pass over vendor lines;
/// device names are found by scanning only their vendor's block, so startup stays
/// within a few milliseconds for the 1.3 MB file. The text must outlive the index.
class PciIds {
 public:
  explicit PciIds(std::string_view text);
  std::optional<std::string_view> vendor(std::uint16_t vendor) const;
  std::optional<std::string_view> device(std::uint16_t vendor, std::uint16_t device) const;
  size_t vendor_count() const { return vendors_.size(); }

 private:
  struct Block {
    std::string_view name;
    std::string_view devices;  ///< lines after the vendor line, up to the next vendor
  };
  std::unordered_map<std::uint16_t, Block> vendors_;
};

/// The same lookups as PciIds over a pci.ids read in pieces: holds one line and the names
/// asked for, not the 1.3 MB file (issue 23: memory of `detect` flat in the output). Ask
/// with want(), feed() the text split anywhere, finish(), then read the names.
class PciIdsStream {
 public:
  void want(std::uint16_t vendor, std::uint16_t device);
  void feed(std::string_view chunk);
  void finish();
  std::optional<std::string> vendor(std::uint16_t vendor) const;
  std::optional<std::string> device(std::uint16_t vendor, std::uint16_t device) const;

 private:
  void line(std::string_view line);

  std::string carry_;  ///< a line split between two chunks
  bool done_ = false;  ///< the class section began: nothing more to read
  int block_ = -1;     ///< the wanted vendor whose first block is being read, or -1
  std::unordered_set<std::uint16_t> vendors_seen_;  ///< first entry wins, as in lspci
  std::unordered_map<std::uint16_t, std::optional<std::string>> vendors_;
  std::unordered_map<std::uint32_t, std::optional<std::string>> devices_;
};

}  // namespace exliar
