#include "plan/plan_check.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "probe/inventory.h"

namespace exliar {

namespace {

// The files the backends edit (src/boot, src/modules, src/dynamic, src/modules/bind.cpp).
// A path the planner can produce must be here; anything else in a plan file was not made by
// exliar's planner.
constexpr std::string_view kOwnedFiles[] = {
    paths::kEtcDefaultGrub,
    paths::kEtcSysconfigGrub,
    paths::kEtcKernelCmdline,
    paths::kEtcKernelstubConfig,
    paths::kEtcModules,
    paths::kEtcMkinitcpioConf,
    paths::kEtcDracutConf,
    paths::kEtcInitramfsToolsModules,
    paths::kEtcBoosterYaml,
    paths::kExliarInitramfsToolsHook,
    paths::kExliarEarlyBindScript,
    paths::kExliarEarlyBindAddresses,
    paths::kLibvirtDispatcher,
    paths::kProxmoxDispatcher,
};

struct OwnedDir {
  std::string_view dir;
  std::string_view suffix;  ///< the entries' name suffix ("" = any name)
};
// Direct entries only (no subdirectories): grub.d is read as *.cfg by grub-mkconfig,
// modprobe.d and friends as *.conf (modprobe.d(5), modules-load.d(5), dracut.conf(5)).
constexpr OwnedDir kOwnedDirs[] = {
    {paths::kEtcDefaultGrubD, ".cfg"},
    {paths::kBootLoaderEntries, ".conf"},
    {paths::kBootEfiLoaderEntries, ".conf"},
    {paths::kEfiLoaderEntries, ".conf"},
    {paths::kEtcModprobeD, ".conf"},
    {paths::kEtcModulesLoadD, ".conf"},
    {paths::kEtcMkinitcpioConfD, ".conf"},
    {paths::kEtcDracutConfD, ".conf"},
    {paths::kBindStateDir, ""},
    {paths::kExliarVmsDir, ".json"},
};

// The regeneration (and module loading) tools the backends plan, by bare name: a plan file
// may not name another program, nor a path to one.
constexpr std::string_view kTools[] = {
    "update-initramfs", "dracut",     "mkinitcpio",        "booster",
    "modprobe",         "kernelstub", "update-grub",       "grub-mkconfig",
    "grub2-mkconfig",   "grubby",     "proxmox-boot-tool",
};

bool safe_name(std::string_view n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string_view::npos &&
         n.find('\0') == std::string_view::npos;
}

bool owned_file(std::string_view p) {
  if (!plain_absolute_path(p)) return false;
  if (std::find(std::begin(kOwnedFiles), std::end(kOwnedFiles), p) != std::end(kOwnedFiles))
    return true;
  std::string_view dir = path_dirname(p), name = path_basename(p);
  for (const auto& d : kOwnedDirs)
    if (dir == d.dir && safe_name(name) && name.front() != '.' && name.size() > d.suffix.size() &&
        name.substr(name.size() - d.suffix.size()) == d.suffix)
      return true;
  return false;
}

// The driver-binding attributes src/modules/bind.cpp writes (Documentation/ABI/testing/
// sysfs-bus-pci): a device's driver_override, a PCI driver's bind/unbind/new_id/remove_id,
// and drivers_probe.
bool pci_binding_attribute(std::string_view p) {
  if (!plain_absolute_path(p)) return false;
  if (p == paths::kPciDriversProbe) return true;
  std::string_view dir = path_dirname(p), attr = path_basename(p), parent = path_dirname(dir),
                   name = path_basename(dir);
  if (parent == paths::kPciDevices)
    return attr == "driver_override" && parse_pci_address(name).has_value();
  if (parent == paths::kPciDrivers)
    return safe_name(name) &&
           (attr == "bind" || attr == "unbind" || attr == "new_id" || attr == "remove_id");
  return false;
}

Status check_argv(const std::vector<std::string>& argv, const std::string& what) {
  if (argv.empty()) return {};
  if (std::find(std::begin(kTools), std::end(kTools), argv[0]) == std::end(kTools))
    return fail(what + " runs `" + argv[0] +
                "`, which is not one of the tools exliar's planner runs (" +
                "update-initramfs, dracut, mkinitcpio, booster, modprobe, kernelstub, update-grub, "
                "grub-mkconfig, grub2-mkconfig, grubby, proxmox-boot-tool)");
  // grub-mkconfig -o FILE writes FILE: only a grub.cfg under /boot.
  for (size_t k = 1; k < argv.size(); ++k) {
    if (argv[k] != "-o" && argv[k].rfind("--output", 0) != 0) continue;
    std::string out = argv[k] == "-o" ? (k + 1 < argv.size() ? argv[k + 1] : "")
                      : argv[k].find('=') != std::string::npos
                          ? argv[k].substr(argv[k].find('=') + 1)
                          : (k + 1 < argv.size() ? argv[k + 1] : "");
    if (!plain_absolute_path(out) || out.rfind(std::string(paths::kBootDir) + "/", 0) != 0 ||
        path_basename(out) != "grub.cfg")
      return fail(what + " writes `" + out + "`; only a grub.cfg under /boot is allowed");
  }
  return {};
}

bool not_writable_by_others(const FileStat& st, bool dir) {
  if (!(st.mode & (S_IWGRP | S_IWOTH))) return true;
  // A sticky directory (/tmp): others may create files there but not rename or remove ours.
  return dir && (st.mode & S_ISVTX);
}

}  // namespace

bool plain_absolute_path(std::string_view p) {
  if (p.empty() || p.front() != '/' || p.find('\0') != std::string_view::npos) return false;
  size_t i = 1;
  while (i <= p.size()) {
    size_t e = p.find('/', i);
    if (e == std::string_view::npos) e = p.size();
    std::string_view c = p.substr(i, e - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = e + 1;
  }
  return true;
}

Status check_plan_targets(const Plan& plan, const std::string& where) {
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    std::string what = "invalid plan: steps[" + std::to_string(i) + "]";
    const Step& s = plan.steps[i];
    if (const auto* e = std::get_if<EditFile>(&s.action)) {
      if (!owned_file(e->path))
        return fail(
            what + " edits " + e->path + ", which is not a file any exliar backend edits; refused",
            where);
    } else if (const auto* w = std::get_if<WriteSysfs>(&s.action)) {
      for (const auto* p : {&w->path, w->undo_path ? &*w->undo_path : nullptr})
        if (p && !pci_binding_attribute(*p))
          return fail(what + " writes " + *p +
                          "; a sysfs step may only write a PCI device's driver_override, a PCI "
                          "driver's bind/unbind/new_id/remove_id or drivers_probe under " +
                          std::string(paths::kPciDevices.substr(0, 12)) + "; refused",
                      where);
    } else if (const auto* c = std::get_if<RunCommand>(&s.action)) {
      if (auto r = check_argv(c->argv, what); !r) return fail(r.error().message, where);
      if (auto r = check_argv(c->undo_argv, what + " (undo)"); !r)
        return fail(r.error().message, where);
    }
  }
  return {};
}

Status check_plan_file(const Fs& host, std::string_view path, uid_t euid) {
  std::string p = path_normalize(path);
  auto st = host.stat(p, true);
  if (!st) return tl::unexpected(st.error());
  auto owner_ok = [&](const FileStat& s) { return s.uid == 0 || s.uid == euid; };
  if (st->type != FileStat::Type::regular) return fail("is not a regular file; refused", p);
  if (!owner_ok(*st))
    return fail(fmt::format("refused: the plan is owned by uid {}, not by root or you", st->uid),
                p);
  if (!not_writable_by_others(*st, false))
    return fail(fmt::format("refused: the plan is writable by group or others (mode {:04o})",
                            st->mode & 07777),
                p);
  for (std::string dir(path_dirname(p));; dir = std::string(path_dirname(dir))) {
    auto d = host.stat(dir, true);
    if (!d) return tl::unexpected(d.error());
    if (!owner_ok(*d) || !not_writable_by_others(*d, true))
      return fail(fmt::format("refused: the plan's directory {} is owned by uid {} with mode "
                              "{:04o}; another user could replace the plan",
                              dir, d->uid, d->mode & 07777),
                  p);
    if (dir == "/") break;
  }
  return {};
}

}  // namespace exliar
