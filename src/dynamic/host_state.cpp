#include "dynamic/host_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "host/paths.h"
#include "host/text.h"

namespace exliar::dynamic {

namespace {

std::string dev_dir(const PciAddress& a) { return path_join(paths::kPciDevices, a.str()); }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> gpu_device_nodes(const Fs& fs, const std::vector<PciAddress>& functions) {
  std::vector<std::string> out;
  bool nvidia = false;
  for (const auto& a : functions) {
    // DRM minors: card0 (primary), renderD128 (render); fbdev: fb0 (drivers/gpu/drm/drm_sysfs.c,
    // drivers/video/fbdev/core/fbsysfs.c register them under the PCI device).
    if (auto names = fs.list_dir(path_join(dev_dir(a), "drm")))
      for (const auto& n : *names)
        if (n.rfind("card", 0) == 0 || n.rfind("renderD", 0) == 0)
          out.push_back(path_join(paths::kDevDri, n));
    if (auto names = fs.list_dir(path_join(dev_dir(a), "graphics")))
      for (const auto& n : *names)
        if (n.rfind("fb", 0) == 0) out.push_back(path_join(paths::kDev, n));
    if (auto l = fs.read_link(path_join(dev_dir(a), "driver")))
      nvidia = nvidia || path_basename(*l) == "nvidia";
  }
  if (nvidia)
    if (auto names = fs.list_dir(paths::kDev))
      for (const auto& n : *names)
        if (n.rfind("nvidia", 0) == 0) out.push_back(path_join(paths::kDev, n));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<Holder> find_holders(const Fs& fs, const std::vector<std::string>& nodes) {
  std::vector<Holder> out;
  if (nodes.empty()) return out;
  std::set<std::string> wanted(nodes.begin(), nodes.end());
  auto pids = fs.list_dir(paths::kProc);
  if (!pids) return out;
  std::vector<std::pair<int, std::string>> numeric;
  for (const auto& p : *pids)
    if (all_digits(p)) numeric.emplace_back(std::stoi(p), p);
  std::sort(numeric.begin(), numeric.end());
  for (const auto& [pid, name] : numeric) {
    std::string fd_dir = path_join(path_join(paths::kProc, name), "fd");
    auto fds = fs.list_dir(fd_dir);
    if (!fds) continue;  // the process ended meanwhile, or a kernel thread
    for (const auto& fd : *fds) {
      auto target = fs.read_link(path_join(fd_dir, fd));
      if (!target || !wanted.count(*target)) continue;
      std::string comm = "?";
      if (auto c = fs.read_file(path_join(path_join(paths::kProc, name), "comm")))
        comm = std::string(trim(*c));
      Holder h{pid, comm, *target};
      if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
    }
  }
  return out;
}

std::string describe_holders(const std::vector<Holder>& hs) {
  std::vector<std::string> parts;
  for (const auto& h : hs)
    parts.push_back(fmt::format("{} (pid {}) holds {}", h.comm, h.pid, h.node));
  return join(parts, ", ");
}

std::optional<DisplayManager> detect_display_manager(const Fs& fs, const std::string& init_system,
                                                     const std::optional<std::string>& configured) {
  if (configured)
    return DisplayManager{*configured, init_system == "openrc" ? "openrc" : "systemd", *configured};
  if (init_system == "systemd" || init_system == "unknown") {
    if (auto l = fs.read_link(paths::kSystemdDisplayManager))
      return DisplayManager{"display-manager.service", "systemd", std::string(path_basename(*l))};
    if (fs.is_file(paths::kSystemdDisplayManager))
      return DisplayManager{"display-manager.service", "systemd", "display-manager.service"};
  }
  if ((init_system == "openrc" || init_system == "unknown") &&
      fs.exists(paths::kOpenrcDisplayManager))
    return DisplayManager{"display-manager", "openrc", "display-manager"};
  return std::nullopt;
}

std::vector<std::string> service_argv(const DisplayManager& dm, std::string_view action) {
  if (dm.init == "openrc") {
    std::string a(action == "is-active" ? "status" : action);
    return {"rc-service", dm.service, a};
  }
  if (action == "is-active") return {"systemctl", "is-active", "--quiet", dm.service};
  return {"systemctl", std::string(action), dm.service};
}

std::vector<VtConsole> list_vtconsoles(const Fs& fs) {
  std::vector<VtConsole> out;
  auto names = fs.list_dir(paths::kSysClassVtconsole);
  if (!names) return out;
  for (const auto& n : *names) {
    std::string dir = path_join(paths::kSysClassVtconsole, n);
    auto name = fs.read_file(path_join(dir, "name"));
    auto bind = fs.read_file(path_join(dir, "bind"));
    if (!name || !bind) continue;
    out.push_back({n, std::string(trim(*name)), trim(*bind) == "1"});
  }
  return out;
}

bool is_fbcon(const VtConsole& v) { return v.name.find("frame buffer") != std::string::npos; }

std::vector<FirmwareFb> list_firmware_framebuffers(const Fs& fs) {
  // The names sysfb_init() and the EFI/x86 code register (drivers/firmware/sysfb.c,
  // drivers/video/fbdev/{efifb,simplefb,vesafb}.c); DRM's simpledrm binds
  // "simple-framebuffer" too.
  static constexpr std::string_view kDrivers[] = {"efi-framebuffer", "simple-framebuffer",
                                                  "vesa-framebuffer", "simple-framebuffer-drm"};
  std::vector<FirmwareFb> out;
  for (auto d : kDrivers) {
    std::string dir = path_join(paths::kPlatformDrivers, d);
    auto names = fs.list_dir(dir);
    if (!names) continue;
    for (const auto& n : *names) {
      // Bound devices appear as links named like the device ("efi-framebuffer.0").
      auto st = fs.stat(path_join(dir, n), false);
      if (st && st->type == FileStat::Type::symlink && n.find('.') != std::string::npos &&
          n != "module")
        out.push_back({std::string(d), n});
    }
  }
  return out;
}

bool module_live(const Fs& fs, std::string_view m) {
  auto s = fs.read_file(path_join(path_join(paths::kSysModule, m), "initstate"));
  return s && trim(*s) == "live";
}

std::optional<std::string> driver_module(const Fs& fs, const PciAddress& a) {
  auto l = fs.read_link(path_join(path_join(dev_dir(a), "driver"), "module"));
  if (!l) return std::nullopt;
  std::string m(path_basename(*l));
  if (!module_live(fs, m)) return std::nullopt;
  return m;
}

std::vector<std::string> unload_order(const Fs& fs, const std::vector<std::string>& roots) {
  // Discover the holders' closure, then emit each module after everything that holds it.
  std::vector<std::string> found;
  std::map<std::string, std::vector<std::string>> holders;
  std::function<void(const std::string&)> visit = [&](const std::string& m) {
    if (holders.count(m) || !module_live(fs, m)) return;
    found.push_back(m);
    auto& hs = holders[m];
    if (auto names = fs.list_dir(path_join(path_join(paths::kSysModule, m), "holders")))
      hs = *names;
    for (const auto& h : hs) visit(h);
  };
  for (const auto& r : roots) visit(r);
  std::vector<std::string> out;
  std::set<std::string> emitted, active;
  std::function<void(const std::string&)> emit = [&](const std::string& m) {
    if (emitted.count(m) || active.count(m) || !holders.count(m)) return;
    active.insert(m);
    for (const auto& h : holders[m]) emit(h);
    active.erase(m);
    emitted.insert(m);
    out.push_back(m);
  };
  for (const auto& m : found) emit(m);
  return out;
}

}  // namespace exliar::dynamic
