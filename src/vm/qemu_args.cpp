// --format qemu: the plain-QEMU equivalent of the libvirt output, for a q35 machine.
#include <fmt/format.h>

#include "vm/hostdev_build.h"
#include "vm/vm_xml.h"

namespace exliar::vm {

namespace {

/// QEMU option values escape a comma by doubling it (docs: "qemu-options", "-device").
std::string qemu_escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::string port_id(const PciAddress& a) {
  return fmt::format("exliar-rp-{:04x}-{:02x}-{:02x}", a.domain, a.bus, a.dev);
}

/// A POSIX-shell word: bare when it only has safe characters, else single-quoted.
std::string shell_word(std::string_view w) {
  bool safe = !w.empty() && w.find_first_not_of(
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_=.,:/+@") == std::string_view::npos;
  if (safe) return std::string(w);
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> qemu_args(const Passthrough& p) {
  std::vector<std::string> a;
  const auto& s = p.snippets;
  // libvirt's <ioapic driver='kvm'/> is QEMU's kernel_irqchip=on (q35 defaults to split
  // since QEMU 4.0, which hidden KVM does not survive: kubevirt#5619).
  if (s.ioapic_kvm || s.hide_kvm) {
    a.push_back("-machine");
    a.push_back("q35,kernel_irqchip=on");
  }
  if (s.hide_kvm || s.hyperv_vendor_id) {
    // kvm=off hides the KVM CPUID signature; hv_vendor_id replaces "Microsoft Hv"
    // (gpu-knowledge.md 2.4, the pre-R465 NVIDIA Code 43 workaround).
    std::string cpu = "host";
    if (s.hide_kvm) cpu += ",kvm=off";
    if (s.hyperv_vendor_id) cpu += ",hv_vendor_id=" + qemu_escape(*s.hyperv_vendor_id);
    a.push_back("-cpu");
    a.push_back(cpu);
  }
  // One root port for the whole slot, like the host, so functions stay together.
  a.push_back("-device");
  a.push_back(fmt::format("pcie-root-port,id={},bus=pcie.0,chassis={},slot=0", port_id(p.gpu),
                          0x80 + (p.gpu.bus & 0x7f)));
  for (const auto& f : p.functions) {
    std::string dev = fmt::format(
        "vfio-pci,host={},id=hostdev-{:04x}-{:02x}-{:02x}-{},bus={},addr=00.{}", f.host.str(),
        f.host.domain, f.host.bus, f.host.dev, f.host.fn, port_id(p.gpu), f.host.fn);
    if (f.host.fn == 0 && is_multifunction(p)) dev += ",multifunction=on";
    if (f.host == p.gpu) {
      if (s.rom_file) dev += ",romfile=" + qemu_escape(*s.rom_file);
      if (s.rom_bar_off) dev += ",rombar=0";
    }
    a.push_back("-device");
    a.push_back(dev);
  }
  return a;
}

std::string qemu_args_text(const Passthrough& p) {
  auto a = qemu_args(p);
  std::string out =
      fmt::format("# exliar: QEMU arguments for GPU {} ({} functions) on a q35 machine\n",
                  p.gpu.str(), p.functions.size());
  for (std::size_t i = 0; i < a.size(); i += 2) {
    out += shell_word(a[i]);
    if (i + 1 < a.size()) out += " " + shell_word(a[i + 1]);
    out += i + 2 < a.size() ? " \\\n" : "\n";
  }
  return out;
}

}  // namespace exliar::vm
