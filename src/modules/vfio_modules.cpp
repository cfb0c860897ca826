#include "modules/vfio_modules.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "host/paths.h"
#include "host/text.h"
#include "modules/early_bind.h"
#include "modules/initramfs/backend.h"
#include "modules/modprobe.h"

namespace exliar {

namespace {

constexpr const char* kSource = "modules/modprobe";

bool valid_module_name(std::string_view m) {
  if (m.empty() || m.size() > 64) return false;
  return std::all_of(m.begin(), m.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Status validate(const Inventory& inv, const VfioRequest& req) {
  for (const auto& id : req.ids)
    if (!is_pci_id(id))
      return fail(
          "`" + id +
          "` is not a PCI vendor:device ID (expected four hex digits, ':', four hex digits)");
  for (const auto& a : req.addresses)
    if (!inv.find(a)) return fail("no PCI device at " + a.str() + " on this host");
  for (const auto& d : req.native_drivers)
    if (!valid_module_name(d)) return fail("`" + d + "` is not a driver or module name");
  if (req.mode == BindMode::ids && req.ids.empty())
    return fail("binding by ID needs at least one vendor:device ID");
  if (req.mode == BindMode::address && req.addresses.empty())
    return fail("binding by address needs at least one PCI address");
  return {};
}

Step file_step(const Fs& fs, std::string path, std::optional<std::string> after, mode_t mode,
               std::string reason, Status& st) {
  std::optional<std::string> before;
  if (auto t = fs.read_file(path)) {
    if (auto cr = check_line_ends(*t); !cr && st) {
      Error e = cr.error();
      e.path = path;
      st = tl::unexpected(e);
    }
    before = std::move(*t);
  } else if (t.error().err != ENOENT) {
    st = tl::unexpected(t.error());
  }
  return edit_step(EditFile{std::move(path), std::move(before), std::move(after), mode},
                   std::move(reason), kSource);
}

}  // namespace

std::string module_for_driver(const Fs& fs, std::string_view driver) {
  std::string link = path_join(path_join(paths::kPciDrivers, driver), "module");
  if (auto target = fs.read_link(link)) return normalize_module_name(path_basename(*target));
  // PCI driver names that differ from their module (drivers/usb/host/xhci-pci.c registers
  // "xhci_hcd"; drivers/i2c/busses/i2c-nvidia-gpu.c registers "nvidia-gpu").
  static const std::pair<std::string_view, std::string_view> table[] = {
      {"xhci_hcd", "xhci_pci"}, {"nvidia-gpu", "i2c_nvidia_gpu"}, {"ehci-pci", "ehci_pci"}};
  for (auto [drv, mod] : table)
    if (drv == driver) return std::string(mod);
  return normalize_module_name(driver);
}

Result<VfioModulesPlan> plan_vfio_modules(const Fs& fs, const Inventory& inv,
                                          const VfioRequest& req) {
  if (auto v = validate(inv, req); !v) return tl::unexpected(v.error());
  VfioModulesPlan plan;
  auto kernels = scan_kernel_modules(fs);
  if (!kernels) return tl::unexpected(kernels.error());
  if (kernels->empty())
    return fail("no installed kernel found (no directory under the modules directory)",
                fs.display(paths::kLibModules));
  plan.kernels = *kernels;

  // Per kernel: which modules exist. A module listed for early loading must exist in every
  // kernel (dracut-install and mkinitcpio fail on a missing one), so the list is the
  // intersection; names missing somewhere are removed from the user's lists too.
  std::vector<std::string> wanted;
  if (req.vendor_reset) wanted.push_back("vendor_reset");
  for (auto m : {"vfio_pci", "vfio", "vfio_iommu_type1"}) wanted.emplace_back(m);
  std::set<std::string> forbidden;
  for (const auto& k : plan.kernels) {
    if (k.vfio_pci_builtin()) plan.builtin_vfio_pci_kernels.push_back(k.version);
    if (!k.available("vfio_pci"))
      plan.warnings.push_back("kernel " + k.version +
                              " has no vfio-pci module: it cannot pass a device through");
    for (auto m : kVfioModules) {
      std::string name(m);
      // Without modules.dep only the version tells; out-of-tree modules cannot be judged.
      if (!k.have_index && name != "vfio_virqfd" && name != "vfio_pci_core") continue;
      if (!k.available(name)) forbidden.insert(name);
    }
  }
  for (const auto& m : wanted) {
    bool everywhere = std::all_of(plan.kernels.begin(), plan.kernels.end(),
                                  [&](const KernelModules& k) { return k.available(m); });
    bool all_builtin =
        std::all_of(plan.kernels.begin(), plan.kernels.end(),
                    [&](const KernelModules& k) { return k.state(m) == ModuleState::builtin; });
    if (!everywhere) {
      std::vector<std::string> lacking;
      for (const auto& k : plan.kernels)
        if (!k.available(m)) lacking.push_back(k.version);
      plan.warnings.push_back(m + " is missing from kernel(s) " + join(lacking, ", ") +
                              "; it is left out of the initramfs lists");
      continue;
    }
    if (!all_builtin) plan.early_modules.push_back(m);
  }
  if (!plan.builtin_vfio_pci_kernels.empty() && req.mode == BindMode::ids)
    plan.kernel_params.push_back("vfio-pci.ids=" + join(req.ids, ","));

  // disable_vga only exists with CONFIG_VFIO_PCI_VGA (drivers/vfio/pci/vfio_pci.c) and only
  // matters for a VGA-class function (class 0x0300) that could decode legacy VGA ranges.
  bool disable_vga = false;
  if (req.disable_vga) {
    bool vga_function =
        std::any_of(req.addresses.begin(), req.addresses.end(), [&](const PciAddress& a) {
          const PciDevice* d = inv.find(a);
          return d && d->class_sub() == 0x0300;
        });
    bool config_lacks = std::any_of(plan.kernels.begin(), plan.kernels.end(),
                                    [](const KernelModules& k) { return k.vfio_pci_vga == false; });
    if (!vga_function)
      plan.warnings.push_back("disable_vga left out: no passed function is a VGA controller");
    else if (config_lacks)
      plan.warnings.push_back(
          "disable_vga left out: a kernel is built without CONFIG_VFIO_PCI_VGA");
    else
      disable_vga = true;
    if (disable_vga && !plan.kernel_params.empty())
      plan.kernel_params.push_back("vfio-pci.disable_vga=1");
  }

  // softdeps: one per native module of the passed functions.
  ModprobeConfig mc;
  if (req.mode == BindMode::ids) mc.ids = req.ids;
  mc.disable_vga = disable_vga;
  mc.vendor_reset = req.vendor_reset;
  mc.address_mode = req.mode == BindMode::address;
  mc.vfio_pci_builtin = !plan.builtin_vfio_pci_kernels.empty();
  std::vector<std::string> native_modules;
  for (const auto& d : req.native_drivers) {
    std::string m = module_for_driver(fs, d);
    if (m == "vfio_pci" || m == "pcieport" ||
        std::find(native_modules.begin(), native_modules.end(), m) != native_modules.end())
      continue;
    native_modules.push_back(m);
    bool builtin_all = std::all_of(
        plan.kernels.begin(), plan.kernels.end(),
        [&](const KernelModules& k) { return k.have_index && k.state(m) == ModuleState::builtin; });
    if (builtin_all)
      plan.warnings.push_back(m +
                              " is built into the kernel, so a softdep cannot delay it; "
                              "vfio-pci must be built in or bound through the kernel command line");
  }
  mc.softdep_modules = native_modules;

  Status st;
  plan.steps.push_back(
      file_step(fs, std::string(paths::kExliarModprobeConf), modprobe_conf(mc), 0644,
                "vfio-pci options and softdeps so it binds before the native drivers", st));
  std::vector<std::string> load = plan.early_modules;
  if (req.kvmfr) {
    if (std::all_of(plan.kernels.begin(), plan.kernels.end(),
                    [](const KernelModules& k) { return k.available("kvmfr"); }))
      load.push_back("kvmfr");
    else
      plan.warnings.push_back(
          "kvmfr (Looking Glass) is not installed for every kernel; not loaded at boot");
  }
  plan.steps.push_back(file_step(fs, std::string(paths::kExliarModulesLoadConf),
                                 modules_load_conf(load), 0644,
                                 "load the VFIO modules at boot on the real root too", st));
  std::vector<std::string> files = {std::string(paths::kExliarModprobeConf)};
  if (req.mode == BindMode::address) {
    plan.steps.push_back(file_step(fs, std::string(paths::kExliarEarlyBindScript),
                                   early_bind_script(), 0755,
                                   "mark the chosen addresses for vfio-pci at boot", st));
    plan.steps.push_back(file_step(fs, std::string(paths::kExliarEarlyBindAddresses),
                                   early_bind_addresses(req.addresses), 0644,
                                   "the PCI addresses vfio-pci claims at boot", st));
    files.emplace_back(paths::kExliarEarlyBindScript);
    files.emplace_back(paths::kExliarEarlyBindAddresses);
  }
  if (!st) return tl::unexpected(st.error());
  // Drop steps whose file already holds the wanted text (re-running apply changes nothing).
  plan.steps.erase(std::remove_if(plan.steps.begin(), plan.steps.end(),
                                  [](const Step& s) {
                                    auto* e = std::get_if<EditFile>(&s.action);
                                    return e && e->before == e->after;
                                  }),
                   plan.steps.end());

  // Other modprobe.d files that would fight ours.
  if (auto names = fs.list_dir(paths::kEtcModprobeD)) {
    for (const auto& n : *names) {
      std::string p = path_join(paths::kEtcModprobeD, n);
      if (p == paths::kExliarModprobeConf || n.size() < 5 || n.substr(n.size() - 5) != ".conf")
        continue;
      if (auto t = fs.read_file(p)) {
        auto w = modprobe_conflicts(fs.display(p), *t, mc);
        plan.warnings.insert(plan.warnings.end(), w.begin(), w.end());
      }
    }
  }

  if (req.no_initramfs) return plan;
  InitramfsInput in;
  in.modules = plan.early_modules;
  in.forbidden.assign(forbidden.begin(), forbidden.end());
  in.native_drivers = native_modules;
  in.files = files;
  in.address_mode = req.mode == BindMode::address;
  in.kernels = plan.kernels;
  Result<InitramfsOutput> r = fail("");
  switch (inv.system.initramfs) {
    case Initramfs::mkinitcpio:
      r = mkinitcpio_steps(fs, in);
      break;
    case Initramfs::dracut:
      r = dracut_steps(fs, in);
      break;
    case Initramfs::initramfs_tools:
      r = initramfs_tools_steps(fs, in);
      break;
    case Initramfs::booster:
      r = booster_steps(fs, in);
      break;
    case Initramfs::unknown:
      return fail(
          "cannot tell which initramfs generator this system uses (none of mkinitcpio, "
          "dracut, initramfs-tools, booster found); use --no-initramfs and add the VFIO "
          "modules to the initramfs yourself");
  }
  if (!r) return tl::unexpected(r.error());
  plan.steps.insert(plan.steps.end(), r->steps.begin(), r->steps.end());
  plan.warnings.insert(plan.warnings.end(), r->warnings.begin(), r->warnings.end());
  return plan;
}

Result<std::vector<Step>> vfio_module_steps(const Fs& fs, const Inventory& inv,
                                            const VfioRequest& req) {
  auto p = plan_vfio_modules(fs, inv, req);
  if (!p) return tl::unexpected(p.error());
  return std::move(p->steps);
}

}  // namespace exliar
