// AMD (0x1002): the reset bug and vendor-reset, APU iGPUs, Navi switch layouts.
#include <algorithm>

#include "gpu/vendor/handler.h"
#include "host/paths.h"

namespace exliar::gpu {

namespace {

class AmdHandler final : public VendorHandler {
 public:
  const char* name() const override { return "amd"; }
  bool detect(const GpuInfo& g) const override { return g.vendor_id == 0x1002; }

  Preparation prepare(const GpuInfo& g, const Inventory& inv) const override {
    Preparation p = VendorHandler::prepare(g, inv);
    if (g.caps.vendor_reset_supported) {
      // gnif/vendor-reset hooks pci_dev_specific_reset; it must be loaded before vfio-pci
      // takes the card, and since 5.15 the device's reset_method must name it
      // (vendor-reset#46, udev/99-vendor-reset.rules).
      p.early_modules.push_back("vendor-reset");
      p.out_of_tree_modules.push_back("vendor-reset");
      p.reset_methods.push_back(
          {g.gpu.address, "device_specific", "route resets through vendor-reset (AMD reset bug)"});
    }
    if (g.gpu.integrated)
      p.notes.push_back(
          "APU iGPU: pass the APU's HD audio function too, and supply the VBIOS "
          "from the ACPI VFCT table (the sysfs rom file is gone once vfio-pci binds)");
    if (g.switch_upstream)
      p.notes.push_back("the GPU sits behind its own PCIe switch (" + g.switch_upstream->str() +
                        "); the switch ports stay on pcieport");
    return p;
  }

  VmSnippets vm_snippets(const GpuInfo& g, const VmSnippetOptions& = {}) const override {
    VmSnippets s;
    // Never hide KVM for AMD: the Windows driver does not check for a hypervisor.
    (void)g;
    return s;
  }

  std::vector<PostCheck> post_checks(const GpuInfo& g) const override {
    auto out = VendorHandler::post_checks(g);
    if (g.caps.vendor_reset_supported) {
      out.push_back({"vendor-reset-loaded", "the vendor-reset module is loaded",
                     std::string(paths::kSysModule) + "/vendor_reset", "", false});
      out.push_back({"reset-method", g.gpu.address.str() + " resets with device_specific",
                     std::string(paths::kPciDevices) + "/" + g.gpu.address.str() + "/reset_method",
                     "device_specific", false});
    }
    return out;
  }
};

}  // namespace

const VendorHandler& amd_handler() {
  static const AmdHandler h;
  return h;
}

}  // namespace exliar::gpu
