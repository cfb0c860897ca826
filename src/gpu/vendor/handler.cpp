// The vendor-independent parts every handler starts from.
#include "gpu/vendor/handler.h"

#include <algorithm>

#include "gpu/kver.h"
#include "host/fs.h"
#include "host/paths.h"

namespace exliar::gpu {

const VendorHandler& amd_handler();
const VendorHandler& nvidia_handler();
const VendorHandler& intel_handler();

namespace {

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

class GenericHandler final : public VendorHandler {
 public:
  const char* name() const override { return "generic"; }
  bool detect(const GpuInfo&) const override { return true; }
};

}  // namespace

std::vector<std::string> companion_drivers(const GpuInfo& g) {
  std::vector<std::string> out;
  for (const auto& c : g.companions) {
    switch (c.kind) {
      case CompanionKind::audio:
        add_unique(out, "snd_hda_intel");
        break;
      case CompanionKind::usb:
        add_unique(out, "xhci_pci");
        break;
      case CompanionKind::ucsi:
        // NVIDIA's UCSI function is an I2C controller (i2c-nvidia-gpu) with ucsi_ccg on top.
        add_unique(out, g.vendor_id == 0x10de ? "i2c_nvidia_gpu" : "ucsi_ccg");
        if (g.vendor_id == 0x10de) add_unique(out, "ucsi_ccg");
        break;
      default:
        break;
    }
  }
  return out;
}

Preparation VendorHandler::prepare(const GpuInfo& g, const Inventory&) const {
  Preparation p;
  for (const auto& d : g.caps.drivers) add_unique(p.softdep_drivers, d);
  for (const auto& d : companion_drivers(g)) add_unique(p.softdep_drivers, d);
  return p;
}

std::vector<KernelParam> VendorHandler::apply_quirks(const GpuInfo& g, const Inventory& inv) const {
  std::vector<KernelParam> out;
  if (!g.gpu.boot_vga) return out;
  // The firmware framebuffer keeps the boot GPU's BAR ("BAR 0: can't reserve"). Since 5.15
  // boot framebuffers come from sysfb (simplefb/simpledrm), so efifb:off no longer helps
  // (gpu-knowledge.md 6.5).
  auto kv = inv.system.kernel ? parse_kernel_version(*inv.system.kernel) : std::nullopt;
  if (kv && *kv < KernelVersion{5, 15}) {
    out.push_back(
        {"video=efifb:off", "the boot GPU's BAR is held by efifb on kernels before 5.15"});
    out.push_back({"video=vesafb:off", "the same for BIOS-booted hosts (vesafb)"});
  } else {
    out.push_back({"initcall_blacklist=sysfb_init",
                   "the boot GPU's BAR is held by the sysfb boot framebuffer (kernel 5.15+)"});
  }
  return out;
}

VmSnippets VendorHandler::vm_snippets(const GpuInfo&, const VmSnippetOptions&) const { return {}; }

bool hides_kvm(const GpuInfo& g, const VmSnippetOptions& o) {
  if (g.vendor_id != 0x10de || !g.passthrough_target()) return false;
  switch (g.caps.code43) {
    case Code43::all_drivers:
      return true;
    case Code43::legacy_drivers:
    case Code43::unknown:
      return o.legacy_nvidia_driver;
    default:
      return false;
  }
}

std::vector<PostCheck> VendorHandler::post_checks(const GpuInfo& g) const {
  std::vector<PostCheck> out;
  for (const auto& a : g.vm_functions())
    out.push_back({"bound-vfio", a.str() + " is bound to vfio-pci",
                   std::string(paths::kPciDevices) + "/" + a.str() + "/driver", "vfio-pci", true});
  return out;
}

const VendorHandler& handler_for(const GpuInfo& g) {
  static const GenericHandler generic;
  for (const VendorHandler* h : {&amd_handler(), &nvidia_handler(), &intel_handler()})
    if (h->detect(g)) return *h;
  return generic;
}

}  // namespace exliar::gpu
