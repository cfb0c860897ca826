#include "boot/params.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"

namespace exliar::boot {

bool is_list_key(std::string_view key) {
  // vfio-pci.ids: one charp module parameter, the last assignment wins, so a second
  // token would silently drop the first (drivers/vfio/pci/vfio_pci.c, gpu-knowledge 6.3).
  // rd.driver.pre / rd.driver.blacklist / modprobe.blacklist / initcall_blacklist take
  // comma lists; merging keeps one token the user can read (dracut.cmdline(7)).
  // pcie_acs_override: downstream,multifunction,id:... (ACS override patch).
  static const std::string_view keys[] = {"vfio_pci.ids",        "rd.driver.pre",
                                          "rd.driver.blacklist", "modprobe.blacklist",
                                          "initcall_blacklist",  "pcie_acs_override"};
  std::string k = normalize_key(key);
  return std::find(std::begin(keys), std::end(keys), k) != std::end(keys);
}

Result<bool> apply_edit(Cmdline& c, const ParamEdit& e) {
  if (auto st = check_param(e.param); !st) return tl::unexpected(st.error());
  size_t eq = e.param.find('=');
  std::string_view key = std::string_view(e.param).substr(0, eq);
  bool list = eq != std::string::npos && is_list_key(key) && e.param.find('"') == std::string::npos;
  if (e.op == ParamEdit::Op::add) {
    if (list && eq + 1 < e.param.size()) return c.merge(key, e.param.substr(eq + 1));
    return c.add(e.param);
  }
  if (eq != std::string::npos && eq + 1 == e.param.size()) return c.remove_key(key);
  bool changed = c.remove(e.param);
  if (list) {
    auto r = c.unmerge(key, e.param.substr(eq + 1));
    if (!r) return r;
    changed = changed || *r;
  }
  return changed;
}

Result<std::vector<ParamEdit>> apply_edits(Cmdline& c, const std::vector<ParamEdit>& edits) {
  std::vector<ParamEdit> applied;
  for (const auto& e : edits) {
    auto r = apply_edit(c, e);
    if (!r) return tl::unexpected(r.error());
    if (*r) applied.push_back(e);
  }
  return applied;
}

std::vector<ParamEdit> reverse_edits(const std::vector<ParamEdit>& applied) {
  std::vector<ParamEdit> out;
  for (auto it = applied.rbegin(); it != applied.rend(); ++it)
    out.push_back(
        {it->op == ParamEdit::Op::add ? ParamEdit::Op::remove : ParamEdit::Op::add, it->param});
  return out;
}

namespace {

// sysfb (simplefb/simpledrm registration) replaced direct efifb probing in 5.15, so
// video=efifb:off no longer frees the BAR there (gpu-knowledge 6.5).
bool kernel_has_sysfb(const std::optional<std::string>& release) {
  if (!release) return true;
  auto parts = split(*release, '.');
  if (parts.size() < 2) return true;
  auto major = parse_long(parts[0]);
  std::string_view minor_s = parts[1];
  size_t digits = 0;
  while (digits < minor_s.size() && minor_s[digits] >= '0' && minor_s[digits] <= '9') ++digits;
  auto minor = parse_long(minor_s.substr(0, digits));
  if (!major || !minor) return true;
  return *major > 5 || (*major == 5 && *minor >= 15);
}

}  // namespace

Result<std::vector<std::string>> managed_params(const ManagedParamsInput& in) {
  std::vector<std::string> out;
  // Intel: the IOMMU may be off by default (CONFIG_INTEL_IOMMU_DEFAULT_ON varies by
  // distro). AMD: AMD-Vi is on when firmware enables it and `amd_iommu=on` is not a
  // documented value (kernel-parameters.txt), so nothing is added.
  if (in.cpu == CpuVendor::intel) out.emplace_back("intel_iommu=on");
  if (in.iommu_pt) out.emplace_back("iommu=pt");
  if (!in.ids.empty()) {
    for (const auto& id : in.ids)
      if (!is_pci_id(id)) return fail(fmt::format("'{}' is not a PCI vendor:device id", id));
    out.push_back("vfio-pci.ids=" + join(in.ids, ","));
  }
  // dracut only loads vfio-pci early when told on the command line (or force_drivers);
  // the hyphenated name is what dracut's modprobe expects.
  if (in.initramfs == Initramfs::dracut) out.emplace_back("rd.driver.pre=vfio-pci");
  if (in.acs_override) out.push_back("pcie_acs_override=" + in.acs_value);
  FramebufferQuirk fb = in.framebuffer;
  if (fb == FramebufferQuirk::automatic)
    fb = kernel_has_sysfb(in.kernel) ? FramebufferQuirk::sysfb : FramebufferQuirk::efifb;
  if (fb == FramebufferQuirk::efifb) out.emplace_back("video=efifb:off");
  if (fb == FramebufferQuirk::sysfb) out.emplace_back("initcall_blacklist=sysfb_init");
  for (const auto& x : in.extras) {
    if (auto st = check_param(x); !st) return tl::unexpected(st.error());
    out.push_back(x);
  }
  return out;
}

std::vector<ParamEdit> add_edits(const std::vector<std::string>& params) {
  std::vector<ParamEdit> out;
  for (const auto& p : params) out.push_back({ParamEdit::Op::add, p});
  return out;
}

}  // namespace exliar::boot
