#include "ui/describe.h"

#include <fmt/format.h>

#include "host/text.h"

namespace exliar::ui {

std::string device_label(const PciDevice& d) {
  std::string ids = fmt::format("[{:04x}:{:04x}]", d.vendor_id, d.device_id);
  if (d.vendor_name && d.device_name) return *d.vendor_name + " " + *d.device_name + " " + ids;
  if (d.vendor_name) return *d.vendor_name + " device " + ids;
  return "device " + ids;
}

std::string isolation_label(const Gpu& g) {
  switch (g.isolation) {
    case Isolation::isolated:
      return "isolated";
    case Isolation::no_iommu:
      return "no IOMMU";
    case Isolation::shared: {
      std::vector<std::string> s;
      for (const auto& a : g.shared_with) s.push_back(a.str());
      return "shared with " + join(s, ", ");
    }
  }
  return "";
}

}  // namespace exliar::ui
