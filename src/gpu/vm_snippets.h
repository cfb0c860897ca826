// What a vendor handler tells the VM configuration generator about one GPU.
#pragma once

#include <optional>
#include <string>

namespace exliar {

/// What the user asked vm-xml for.
struct VmSnippetOptions {
  /// --legacy-nvidia-driver: the guest runs a GeForce driver older than R465.
  bool legacy_nvidia_driver = false;
};

struct VmSnippets {
  /// <kvm><hidden state='on'/></kvm>: GeForce drivers before R465 refuse to start (Code 43)
  /// when they see a hypervisor; only for GPUs whose every driver predates R465, or when
  /// asked (--legacy-nvidia-driver). Hiding KVM also hides its paravirt features.
  bool hide_kvm = false;
  /// <hyperv><vendor_id state='on' value='...'/></hyperv>, same reason as hide_kvm.
  std::optional<std::string> hyperv_vendor_id;
  /// <ioapic driver='kvm'/>: needed with hidden KVM on q35.
  bool ioapic_kvm = false;
  /// Why the <features> above are there (the comment vm-xml writes next to them).
  std::string reason;
  /// A validated ROM file for <rom file='...'/>.
  std::optional<std::string> rom_file;
  /// The ROM BAR should not be exposed (<rom bar='off'/>).
  bool rom_bar_off = false;
};

}  // namespace exliar
