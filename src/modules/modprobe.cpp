#include "modules/modprobe.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"
#include "modules/early_bind.h"
#include "modules/kernel_modules.h"

namespace exliar {

std::string modprobe_conf(const ModprobeConfig& c) {
  std::string s =
      "# Written by exliar; `exliar rollback` removes it.\n"
      "# vfio-pci must own the passed-through devices before their native drivers load.\n";
  if (!c.ids.empty()) {
    // Module options reach only a modular vfio-pci; a built-in one reads vfio-pci.ids= from
    // the kernel command line instead (the planner adds that when needed).
    s += "options vfio-pci ids=" + join(c.ids, ",");
    if (c.disable_vga) s += " disable_vga=1";
    s += "\n";
  } else if (c.disable_vga) {
    s += "options vfio-pci disable_vga=1\n";
  }
  if (c.vendor_reset)
    // vendor-reset must be loaded before vfio-pci to hook the reset (gnif/vendor-reset README).
    s += "softdep vfio-pci pre: vendor-reset\n";
  for (const auto& m : c.softdep_modules) s += "softdep " + m + " pre: vfio-pci\n";
  if (c.address_mode) {
    s += early_bind_install_rule("vfio-pci");
    if (c.vfio_pci_builtin)
      for (const auto& m : c.softdep_modules) s += early_bind_install_rule(m);
  }
  return s;
}

std::string modules_load_conf(const std::vector<std::string>& modules) {
  std::string s =
      "# Written by exliar; `exliar rollback` removes it.\n"
      "# Loaded by systemd-modules-load early in boot on the real root.\n";
  for (const auto& m : modules) s += m + "\n";
  return s;
}

std::vector<ModprobeDirective> parse_modprobe_conf(std::string_view text) {
  std::vector<ModprobeDirective> out;
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    int start = static_cast<int>(i) + 1;
    std::string joined(lines[i]);
    while (!joined.empty() && joined.back() == '\\' && i + 1 < lines.size()) {
      joined.pop_back();
      joined += ' ';
      joined += lines[++i];
    }
    auto t = trim(joined);
    if (t.empty() || t.front() == '#') continue;
    auto words = split_ws(t);
    ModprobeDirective d;
    d.line = start;
    d.command = std::string(words[0]);
    if (words.size() > 1) d.module = normalize_module_name(words[1]);
    for (size_t k = 2; k < words.size(); ++k) d.args.emplace_back(words[k]);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> modprobe_conflicts(std::string_view file, std::string_view text,
                                            const ModprobeConfig& ours) {
  std::vector<std::string> w;
  auto vfio = [](const std::string& m) {
    return m == "vfio" || m == "vfio_pci" || m == "vfio_iommu_type1" || m == "vfio_pci_core";
  };
  for (const auto& d : parse_modprobe_conf(text)) {
    if (d.command == "blacklist" && vfio(d.module))
      w.push_back(
          fmt::format("{}:{}: blacklist {} keeps udev from loading it by alias; exliar's "
                      "softdeps still load it, but check why it is there",
                      file, d.line, d.module));
    if (d.command == "install" && d.module == "vfio_pci")
      w.push_back(
          fmt::format("{}:{}: another install rule for vfio-pci; modprobe uses only one, "
                      "so exliar's early binding by address may not run",
                      file, d.line));
    if ((d.command == "install" && vfio(d.module) && !d.args.empty() &&
         (d.args[0] == "/bin/false" || d.args[0] == "/bin/true")))
      w.push_back(fmt::format("{}:{}: `install {} {}` stops the module from loading at all", file,
                              d.line, d.module, d.args[0]));
    if (d.command == "options" && d.module == "vfio_pci")
      for (const auto& a : d.args)
        if (a.rfind("ids=", 0) == 0) {
          std::string mine = ours.ids.empty() ? "none (binding by address)" : join(ours.ids, ",");
          w.push_back(
              fmt::format("{}:{}: another `options vfio-pci {}`; when a parameter is given "
                          "twice the last one read wins (files are read in name order), "
                          "exliar's ids are {}",
                          file, d.line, a, mine));
        }
  }
  return w;
}

}  // namespace exliar
