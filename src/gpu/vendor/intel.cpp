// Intel (0x8086): iGPU assignment (IGD), GVT-g and SR-IOV alternatives, Arc dGPUs.
#include "gpu/vendor/handler.h"

namespace exliar::gpu {

namespace {

class IntelHandler final : public VendorHandler {
 public:
  const char* name() const override { return "intel"; }
  bool detect(const GpuInfo& g) const override { return g.vendor_id == 0x8086; }

  Preparation prepare(const GpuInfo& g, const Inventory& inv) const override {
    Preparation p = VendorHandler::prepare(g, inv);
    if (g.caps.supports_gvt)
      p.notes.push_back(
          "GVT-g can share this iGPU with VMs instead of passing it whole: "
          "i915.enable_gvt=1 and the kvmgt module (intel_gvt.c is_supported_device)");
    if (g.caps.supports_sriov.value_or(false))
      p.notes.push_back("SR-IOV virtual functions can share this GPU instead of passing it whole");
    if (g.switch_upstream)
      p.notes.push_back("Arc card behind its own PCIe switch (" + g.switch_upstream->str() +
                        "); its HD audio function may sit on another bus and is passed too");
    return p;
  }

  VmSnippets vm_snippets(const GpuInfo&, const VmSnippetOptions& = {}) const override {
    // Do not hide the hypervisor from Intel guests: Intel VFs give Code 43 when the
    // hypervisor bit is hidden (strongtz/i915-sriov-dkms#120).
    return {};
  }
};

}  // namespace

const VendorHandler& intel_handler() {
  static const IntelHandler h;
  return h;
}

}  // namespace exliar::gpu
