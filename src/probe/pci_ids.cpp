// pci.ids format (https://pci-ids.ucw.cz/): "vvvv  Vendor", "\tdddd  Device",
// "\t\tssss ssss  Subsystem", comments "#", and a trailing "C cc  Class" section.
#include "probe/pci_ids.h"

#include <cstring>

#include "host/text.h"

namespace exliar {

namespace {

bool hex4_at(std::string_view s, size_t i, std::uint16_t& out) {
  if (i + 4 > s.size()) return false;
  std::uint16_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    char c = s[i + k];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return false;
    v = static_cast<std::uint16_t>(v << 4 | d);
  }
  out = v;
  return true;
}

std::string_view name_after(std::string_view line, size_t pos) {
  if (pos >= line.size()) return {};
  return trim(line.substr(pos));
}

// The two line forms both readers look for: "vvvv  Vendor" and "\tdddd  Device".
bool vendor_line(std::string_view line, std::uint16_t& v) {
  return line.size() > 6 && hex4_at(line, 0, v) && line[4] == ' ';
}
bool device_line(std::string_view line, std::uint16_t& d) {
  return line.size() > 6 && line[0] == '\t' && line[1] != '\t' && hex4_at(line, 1, d);
}

}  // namespace

PciIds::PciIds(std::string_view text) {
  size_t i = 0;
  std::uint16_t cur = 0;
  bool in_vendor = false;
  size_t block_start = 0;
  auto close_block = [&](size_t end) {
    if (in_vendor) vendors_[cur].devices = text.substr(block_start, end - block_start);
    in_vendor = false;
  };
  while (i < text.size()) {
    const char* nl = static_cast<const char*>(std::memchr(text.data() + i, '\n', text.size() - i));
    size_t end = nl ? static_cast<size_t>(nl - text.data()) : text.size();
    std::string_view line = text.substr(i, end - i);
    if (!line.empty() && line[0] != '\t' && line[0] != '#') {
      close_block(i);
      std::uint16_t v;
      if (vendor_line(line, v)) {
        // First entry wins, as in lspci.
        if (!vendors_.count(v)) {
          vendors_[v].name = name_after(line, 4);
          cur = v;
          in_vendor = true;
          block_start = end + 1 > text.size() ? text.size() : end + 1;
        }
      } else if (line[0] == 'C' && line.size() > 1 && line[1] == ' ') {
        break;  // class section: nothing we need after this point
      }
    }
    i = end + 1;
  }
  close_block(i > text.size() ? text.size() : i);
}

std::optional<std::string_view> PciIds::vendor(std::uint16_t vendor) const {
  auto it = vendors_.find(vendor);
  if (it == vendors_.end()) return std::nullopt;
  return it->second.name;
}

std::optional<std::string_view> PciIds::device(std::uint16_t vendor, std::uint16_t device) const {
  auto it = vendors_.find(vendor);
  if (it == vendors_.end()) return std::nullopt;
  std::string_view b = it->second.devices;
  size_t i = 0;
  while (i < b.size()) {
    size_t end = b.find('\n', i);
    if (end == std::string_view::npos) end = b.size();
    std::string_view line = b.substr(i, end - i);
    std::uint16_t d;
    if (device_line(line, d) && d == device) return name_after(line, 5);
    i = end + 1;
  }
  return std::nullopt;
}

void PciIdsStream::want(std::uint16_t vendor, std::uint16_t device) {
  vendors_.try_emplace(vendor);
  devices_.try_emplace(std::uint32_t{vendor} << 16 | device);
}

void PciIdsStream::line(std::string_view line) {
  if (done_ || line.empty() || line[0] == '#') return;
  if (line[0] != '\t') {
    block_ = -1;  // any other top-level line ends a vendor's block, as in PciIds
    std::uint16_t v;
    if (vendor_line(line, v)) {
      if (!vendors_seen_.insert(v).second) return;
      auto it = vendors_.find(v);
      if (it == vendors_.end()) return;
      it->second = std::string(name_after(line, 4));
      block_ = v;
    } else if (line[0] == 'C' && line.size() > 1 && line[1] == ' ') {
      done_ = true;
    }
    return;
  }
  std::uint16_t d;
  if (block_ < 0 || !device_line(line, d)) return;
  auto it = devices_.find(static_cast<std::uint32_t>(block_) << 16 | d);
  if (it != devices_.end() && !it->second) it->second = std::string(name_after(line, 5));
}

void PciIdsStream::feed(std::string_view chunk) {
  while (!chunk.empty() && !done_) {
    auto nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      carry_.append(chunk);
      return;
    }
    if (carry_.empty()) {
      line(chunk.substr(0, nl));
    } else {
      carry_.append(chunk.substr(0, nl));
      line(carry_);
      carry_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
}

void PciIdsStream::finish() {
  if (!carry_.empty()) line(carry_);
  carry_.clear();
}

std::optional<std::string> PciIdsStream::vendor(std::uint16_t vendor) const {
  auto it = vendors_.find(vendor);
  return it == vendors_.end() ? std::nullopt : it->second;
}

std::optional<std::string> PciIdsStream::device(std::uint16_t vendor, std::uint16_t device) const {
  auto it = devices_.find(std::uint32_t{vendor} << 16 | device);
  return it == devices_.end() ? std::nullopt : it->second;
}

}  // namespace exliar
