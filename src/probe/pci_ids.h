#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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

}  // namespace exliar
