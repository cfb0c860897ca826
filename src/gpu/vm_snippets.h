// What a vendor handler tells the VM configuration generator about one GPU.
#pragma once

#include <optional>
#include <string>

namespace exliar {

struct VmSnippets {
  /// <kvm><hidden state='on'/></kvm>: NVIDIA drivers before R465 refuse to start (Code 43)
  /// when they see a hypervisor; only where the GPU database says so.
  bool hide_kvm = false;
  /// <hyperv><vendor_id state='on' value='...'/></hyperv>, same reason as hide_kvm.
  std::optional<std::string> hyperv_vendor_id;
  /// <ioapic driver='kvm'/>: needed with hidden KVM on q35.
  bool ioapic_kvm = false;
  /// A validated ROM file for <rom file='...'/>.
  std::optional<std::string> rom_file;
  /// The ROM BAR should not be exposed (<rom bar='off'/>).
  bool rom_bar_off = false;
};

}  // namespace exliar
