// NVIDIA (0x10de): Code 43 before R465, boot-GPU ROMs, USB-C/UCSI functions.
#include "gpu/vendor/handler.h"

namespace exliar::gpu {

namespace {

class NvidiaHandler final : public VendorHandler {
 public:
  const char* name() const override { return "nvidia"; }
  bool detect(const GpuInfo& g) const override { return g.vendor_id == 0x10de; }

  Preparation prepare(const GpuInfo& g, const Inventory& inv) const override {
    Preparation p = VendorHandler::prepare(g, inv);
    // The proprietary stack loads nvidia_drm/nvidia_modeset on top of nvidia; a softdep on
    // nvidia orders them all after vfio-pci.
    if (g.muxless)
      p.notes.push_back(
          "muxless laptop dGPU (3D controller): the guest driver reads the VBIOS "
          "through ACPI _ROM and checks for a battery; expect extra VM work");
    return p;
  }

  VmSnippets vm_snippets(const GpuInfo& g, const VmSnippetOptions& o = {}) const override {
    VmSnippets s;
    if (hides_kvm(g, o)) {
      // GeForce drivers before R465 stop with Code 43 when they see KVM; hiding the KVM
      // signature and spoofing the Hyper-V vendor ID avoids it (sk1080/nvidia-kvm-patcher#1,
      // kubevirt#3285). With hidden KVM on q35, QEMU >= 4.0 needs the in-kernel IOAPIC
      // (kubevirt#5619, Arch wiki OVMF troubleshooting).
      s.hide_kvm = true;
      s.hyperv_vendor_id = "exliarvfio";  // at most 12 characters
      s.ioapic_kvm = true;
      s.reason = g.caps.code43 == Code43::all_drivers
                     ? "every Windows driver of this GPU predates R465: the GeForce driver stops "
                       "with Code 43 when it sees KVM"
                     : "--legacy-nvidia-driver: GeForce drivers older than R465 stop with Code 43 "
                       "when they see KVM";
    }
    return s;
  }
};

}  // namespace

const VendorHandler& nvidia_handler() {
  static const NvidiaHandler h;
  return h;
}

}  // namespace exliar::gpu
