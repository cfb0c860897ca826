// --format proxmox: the `hostpciN:` line of a Proxmox VE VM config (`qm set VMID --hostpciN
// VALUE`), from pve-docs qm.adoc "PCI(e) Passthrough" and the hostpci[n] option reference:
//   [host=]<bus:dev[.func]>  without .func every function of the slot is passed
//   pcie=1                   a PCIe port (needs the q35 machine type)
//   x-vga=1                  the guest's primary VGA: only for a VGA-compatible function
//   romfile=<name>           a ROM file under /usr/share/kvm/
#include <fmt/format.h>

#include "host/fs.h"
#include "vm/vm_xml.h"

namespace exliar::vm {

std::string proxmox_hostpci(const Passthrough& p, int index) {
  // Proxmox writes host IDs as in lspci: the domain only when it is not 0000.
  std::string host = p.gpu.domain == 0
                         ? fmt::format("{:02x}:{:02x}", p.gpu.bus, p.gpu.dev)
                         : fmt::format("{:04x}:{:02x}:{:02x}", p.gpu.domain, p.gpu.bus, p.gpu.dev);
  if (p.functions.size() == 1) host += fmt::format(".{:x}", p.functions.front().host.fn);
  std::string line = fmt::format("hostpci{}: {},pcie=1", index, host);
  for (const auto& f : p.functions)
    if (f.host == p.gpu && (f.class_code >> 8) == 0x0300) line += ",x-vga=1";
  if (p.snippets.rom_file) line += ",romfile=" + std::string(path_basename(*p.snippets.rom_file));
  return line + "\n";
}

}  // namespace exliar::vm
