#include "modules/kernel_modules.h"

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"

namespace exliar {

const char* to_string(ModuleState s) {
  switch (s) {
    case ModuleState::absent:
      return "absent";
    case ModuleState::module:
      return "module";
    case ModuleState::builtin:
      return "builtin";
  }
  return "absent";
}

ModuleState KernelModules::state(std::string_view name) const {
  auto it = modules.find(normalize_module_name(name));
  return it == modules.end() ? ModuleState::absent : it->second;
}

std::string normalize_module_name(std::string_view name) {
  std::string out(trim(name));
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string module_name_from_path(std::string_view path) {
  std::string_view base = path_basename(trim(path));
  auto ko = base.find(".ko");
  if (ko != std::string_view::npos) base = base.substr(0, ko);
  return normalize_module_name(base);
}

std::set<std::string> parse_modules_dep(std::string_view text) {
  std::set<std::string> out;
  for (auto line : split_lines(text)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = module_name_from_path(line.substr(0, colon));
    if (!name.empty()) out.insert(name);
  }
  return out;
}

std::set<std::string> parse_modules_builtin(std::string_view text) {
  std::set<std::string> out;
  for (auto line : split_lines(text)) {
    if (trim(line).empty()) continue;
    auto name = module_name_from_path(line);
    if (!name.empty()) out.insert(name);
  }
  return out;
}

std::optional<std::pair<int, int>> parse_kernel_version(std::string_view v) {
  auto read_num = [&](std::string_view& s) -> std::optional<int> {
    size_t n = 0;
    while (n < s.size() && n < 6 && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0) return std::nullopt;
    auto val = parse_long(s.substr(0, n));
    s.remove_prefix(n);
    if (!val) return std::nullopt;
    return static_cast<int>(*val);
  };
  auto major = read_num(v);
  if (!major || v.empty() || v.front() != '.') return std::nullopt;
  v.remove_prefix(1);
  auto minor = read_num(v);
  if (!minor) return std::nullopt;
  return std::make_pair(*major, *minor);
}

std::optional<bool> parse_config_vfio_pci_vga(std::string_view config) {
  for (auto line : split_lines(config)) {
    line = trim(line);
    if (line == "CONFIG_VFIO_PCI_VGA=y") return true;
    if (line == "# CONFIG_VFIO_PCI_VGA is not set") return false;
  }
  return std::nullopt;
}

namespace {

/// States when modules.dep is missing (a kernel directory without its index): in-tree
/// modules follow the version. vfio_virqfd was folded into vfio.ko in 6.2 (commit
/// e2d55709398e "vfio: Fold vfio_virqfd.ko into vfio.ko"); vfio_pci_core was split out
/// of vfio_pci in 5.15 ("vfio/pci: Split the pci_driver code out of vfio_pci_core.c").
ModuleState guess_state(std::string_view name, std::optional<std::pair<int, int>> ver) {
  if (name == "vendor_reset" || name == "kvmfr") return ModuleState::absent;  // out of tree
  if (!ver) return ModuleState::absent;
  if (name == "vfio_virqfd")
    return *ver < std::make_pair(6, 2) ? ModuleState::module : ModuleState::absent;
  if (name == "vfio_pci_core")
    return *ver >= std::make_pair(5, 15) ? ModuleState::module : ModuleState::absent;
  return ModuleState::module;
}

}  // namespace

Result<std::vector<KernelModules>> scan_kernel_modules(const Fs& fs) {
  std::string_view base = paths::kLibModules;
  auto names = fs.list_dir(base);
  if (!names) {
    base = paths::kUsrLibModules;
    names = fs.list_dir(base);
  }
  if (!names)
    return fail("cannot list the installed kernels", fs.display(paths::kLibModules),
                names.error().err);
  std::vector<KernelModules> out;
  for (const auto& ver : *names) {
    std::string dir = path_join(base, ver);
    if (!fs.is_dir(dir)) continue;
    KernelModules k;
    k.version = ver;
    k.major_minor = parse_kernel_version(ver);
    std::set<std::string> loadable, builtin;
    if (auto dep = fs.read_file(path_join(dir, "modules.dep"))) {
      k.have_index = true;
      loadable = parse_modules_dep(*dep);
    }
    if (auto b = fs.read_file(path_join(dir, "modules.builtin")))
      builtin = parse_modules_builtin(*b);
    for (auto m : kVfioModules) {
      std::string name(m);
      if (builtin.count(name))
        k.modules[name] = ModuleState::builtin;
      else if (k.have_index)
        k.modules[name] = loadable.count(name) ? ModuleState::module : ModuleState::absent;
      else
        k.modules[name] = guess_state(name, k.major_minor);
    }
    std::string config = path_join(paths::kBootDir, "config-" + ver);
    if (auto c = fs.read_file(config)) k.vfio_pci_vga = parse_config_vfio_pci_vga(*c);
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace exliar
