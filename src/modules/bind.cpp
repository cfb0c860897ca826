// Runtime bind/unbind as sysfs writes (Documentation/ABI/testing/sysfs-bus-pci and
// gpu-knowledge.md §6.2). Per device, bind is:
//   1. drivers/<old>/unbind   <- addr      undo: drivers/<old>/bind <- addr
//   2. devices/<addr>/driver_override <- vfio-pci   undo: the previous override
//   3. drivers_probe          <- addr      undo: drivers/vfio-pci/unbind <- addr
// Each step's undo reverses exactly that step, so the transaction's reverse-order rollback
// is valid after a failure at any point: the device leaves vfio-pci, gets its override
// back, then its old driver (a driver bind fails while driver_override names another
// driver, which is why the override is restored before the rebind). Nothing probes an
// unbound device between steps 1 and 2 (the kernel probes only on device or driver
// registration, or on a drivers_probe write), and step 3 probes only this address.
#include "modules/bind.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "modules/bind_safety.h"

namespace exliar {

namespace {

constexpr const char* kSource = "modules/bind";

std::string dev_attr(const PciAddress& a, std::string_view attr) {
  return path_join(path_join(paths::kPciDevices, a.str()), attr);
}
std::string drv_attr(std::string_view drv, std::string_view attr) {
  return path_join(path_join(paths::kPciDrivers, drv), attr);
}

Step sysfs(std::string path, std::string value, std::optional<std::string> undo_path,
           std::optional<std::string> undo_value, std::string reason) {
  return Step{
      WriteSysfs{std::move(path), std::move(value), std::move(undo_path), std::move(undo_value)},
      std::move(reason), kSource};
}

/// The group's devices that move (everything but PCI bridges, which stay on pcieport).
struct Group {
  int id = 0;
  std::vector<const PciDevice*> members;
};

Result<Group> resolve_group(const Fs& fs, const Inventory& inv, std::string_view addr_text) {
  auto addr = parse_pci_address(addr_text);
  if (!addr)
    return fail("`" + std::string(addr_text) +
                "` is not a PCI address (expected e.g. 0000:01:00.0)");
  if (!inv.system.iommu.active || inv.groups.empty())
    return fail(
        "the IOMMU is not active on this host (no IOMMU groups), so vfio-pci cannot take "
        "devices; enable VT-d/AMD-Vi in the firmware and the IOMMU on the kernel command "
        "line first",
        fs.display(paths::kIommuGroups));
  const PciDevice* d = inv.find(*addr);
  if (!d)
    return fail("no PCI device at " + addr->str() + " on this host",
                fs.display(paths::kPciDevices));
  if (!d->iommu_group)
    return fail(addr->str() + " belongs to no IOMMU group, so it cannot be passed through",
                fs.display(dev_attr(*addr, "iommu_group")));
  const IommuGroup* g = inv.find_group(*d->iommu_group);
  if (!g)
    return fail(
        fmt::format("{} names IOMMU group {}, which does not exist", addr->str(), *d->iommu_group),
        fs.display(paths::kIommuGroups));
  Group out{g->id, {}};
  for (const auto& a : g->devices) {
    const PciDevice* m = inv.find(a);
    if (!m)
      return fail(
          fmt::format("IOMMU group {} lists {}, which is not a PCI device here", g->id, a.str()));
    if (!m->is_bridge()) out.members.push_back(m);
  }
  if (out.members.empty())
    return fail(
        fmt::format("IOMMU group {} holds only PCI bridges; there is nothing to bind", g->id));
  return out;
}

/// Current driver_override: nullopt for "(null)" (none).
Result<std::optional<std::string>> read_override(const Fs& fs, const PciAddress& a) {
  auto t = fs.read_file(dev_attr(a, "driver_override"));
  if (!t)
    return fail(a.str() + " has no readable driver_override attribute (needs Linux 3.16 or later)",
                fs.display(dev_attr(a, "driver_override")), t.error().err);
  auto v = trim(*t);
  if (v.empty() || v == "(null)") return std::optional<std::string>{};
  return std::optional<std::string>(std::string(v));
}

std::optional<std::string> current_driver(const Fs& fs, const PciAddress& a) {
  auto t = fs.read_link(dev_attr(a, "driver"));
  if (!t) return std::nullopt;
  return std::string(path_basename(*t));
}

}  // namespace

std::string bind_state_path(int group) {
  return path_join(paths::kBindStateDir, "group-" + std::to_string(group));
}

std::string format_bind_state(const std::vector<SavedBinding>& s) {
  std::string out = "# Written by `exliar bind`: address, driver before, driver_override before.\n";
  for (const auto& b : s)
    out += b.address.str() + " " + b.driver.value_or("-") + " " + b.override.value_or("-") + "\n";
  return out;
}

Result<std::vector<SavedBinding>> parse_bind_state(std::string_view text, std::string_view path) {
  std::vector<SavedBinding> out;
  int n = 0;
  for (auto line : split_lines(text)) {
    ++n;
    auto t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    auto f = split_ws(t);
    auto a = f.size() == 3 ? parse_pci_address(f[0]) : std::nullopt;
    if (!a)
      return fail("expected `ADDRESS DRIVER OVERRIDE` (\"-\" for none)", std::string(path), 0, n);
    auto opt = [](std::string_view s) {
      return s == "-" ? std::nullopt : std::optional<std::string>(std::string(s));
    };
    out.push_back({*a, opt(f[1]), opt(f[2])});
  }
  return out;
}

Result<BindOutcome> plan_bind(const Fs& fs, const Inventory& inv, std::string_view addr,
                              bool force) {
  auto g = resolve_group(fs, inv, addr);
  if (!g) return tl::unexpected(g.error());
  BindOutcome out;
  out.plan.intent.command = "bind";
  out.plan.intent.gpu = parse_pci_address(addr)->str();
  auto why = bind_refusals(fs, g->members);
  if (!why.empty() && !force) {
    std::string msg = fmt::format("refusing to take IOMMU group {} from the host:", g->id);
    for (const auto& w : why) msg += "\n  - " + w;
    msg += "\n(--force binds anyway)";
    return fail(msg);
  }
  out.refusals = why;
  for (const auto& w : why) out.plan.warnings.push_back("forced: " + w);
  std::string state = bind_state_path(g->id);
  if (fs.exists(state))
    return fail(
        fmt::format("IOMMU group {} is already bound by exliar; run `exliar unbind {}` first",
                    g->id, addr),
        fs.display(state));
  std::vector<SavedBinding> saved;
  std::vector<Step> moves;
  for (const PciDevice* d : g->members) {
    auto ov = read_override(fs, d->address);
    if (!ov) return tl::unexpected(ov.error());
    auto drv = current_driver(fs, d->address);
    saved.push_back({d->address, drv, *ov});
    if (drv == kVfioPciDriver) continue;
    std::string a = d->address.str();
    if (drv)
      moves.push_back(sysfs(drv_attr(*drv, "unbind"), a, drv_attr(*drv, "bind"), a,
                            fmt::format("release {} from {}", a, *drv)));
    moves.push_back(sysfs(dev_attr(d->address, "driver_override"), std::string(kVfioPciDriver),
                          dev_attr(d->address, "driver_override"), ov->value_or("\n"),
                          "let only vfio-pci bind " + a));
    moves.push_back(sysfs(std::string(paths::kPciDriversProbe), a,
                          drv_attr(kVfioPciDriver, "unbind"), a,
                          "probe " + a + " so vfio-pci binds it"));
    out.expect.emplace_back(d->address, std::string(kVfioPciDriver));
  }
  if (moves.empty()) return out;  // the whole group is on vfio-pci already
  out.plan.steps.push_back(edit_step(EditFile{state, std::nullopt, format_bind_state(saved), 0644},
                                     "remember the drivers, for `exliar unbind`", kSource));
  if (!fs.is_dir(path_join(paths::kPciDrivers, kVfioPciDriver)))
    out.plan.steps.push_back(command_step(RunCommand{{"modprobe", "vfio-pci"}, "load vfio-pci", {}},
                                          "vfio-pci is not loaded", kSource));
  out.plan.steps.insert(out.plan.steps.end(), moves.begin(), moves.end());
  return out;
}

Result<BindOutcome> plan_unbind(const Fs& fs, const Inventory& inv, std::string_view addr) {
  auto g = resolve_group(fs, inv, addr);
  if (!g) return tl::unexpected(g.error());
  BindOutcome out;
  out.plan.intent.command = "unbind";
  out.plan.intent.gpu = parse_pci_address(addr)->str();
  std::string state = bind_state_path(g->id);
  std::optional<std::string> state_text;
  std::vector<SavedBinding> saved;
  if (auto t = fs.read_file(state)) {
    state_text = *t;
    auto s = parse_bind_state(*t, fs.display(state));
    if (!s) return tl::unexpected(s.error());
    saved = *s;
  } else if (t.error().err != ENOENT) {
    return tl::unexpected(t.error());
  } else {
    out.plan.warnings.push_back(fmt::format(
        "no saved drivers for IOMMU group {} (not bound by `exliar bind`); the kernel picks the "
        "drivers",
        g->id));
  }
  for (const PciDevice* d : g->members) {
    if (current_driver(fs, d->address) != kVfioPciDriver) continue;
    auto ov = read_override(fs, d->address);
    if (!ov) return tl::unexpected(ov.error());
    std::string a = d->address.str();
    auto it = std::find_if(saved.begin(), saved.end(),
                           [&](const SavedBinding& s) { return s.address == d->address; });
    std::optional<SavedBinding> prev;
    if (it != saved.end()) prev = *it;
    if (prev && prev->driver == kVfioPciDriver) continue;  // it was on vfio-pci before bind
    out.plan.steps.push_back(sysfs(drv_attr(kVfioPciDriver, "unbind"), a,
                                   drv_attr(kVfioPciDriver, "bind"), a,
                                   "release " + a + " from vfio-pci"));
    std::optional<std::string> restore = prev ? prev->override : std::nullopt;
    out.plan.steps.push_back(sysfs(dev_attr(d->address, "driver_override"), restore.value_or("\n"),
                                   dev_attr(d->address, "driver_override"), ov->value_or("\n"),
                                   "give " + a + " its previous driver_override"));
    if (prev && prev->driver) {
      if (fs.is_dir(path_join(paths::kPciDrivers, *prev->driver))) {
        out.plan.steps.push_back(sysfs(drv_attr(*prev->driver, "bind"), a,
                                       drv_attr(*prev->driver, "unbind"), a,
                                       fmt::format("give {} back to {}", a, *prev->driver)));
        out.expect.emplace_back(d->address, *prev->driver);
      } else {
        out.plan.warnings.push_back(
            fmt::format("{} was driven by {}, which is not loaded now; the kernel "
                        "picks a driver",
                        a, *prev->driver));
        out.plan.steps.push_back(sysfs(std::string(paths::kPciDriversProbe), a, std::nullopt,
                                       std::nullopt, "let the kernel choose a driver for " + a));
      }
    } else if (!prev) {
      out.plan.steps.push_back(sysfs(std::string(paths::kPciDriversProbe), a, std::nullopt,
                                     std::nullopt, "let the kernel choose a driver for " + a));
    } else {
      out.expect.emplace_back(d->address, "");
    }
  }
  if (state_text)
    out.plan.steps.push_back(edit_step(EditFile{state, state_text, std::nullopt, 0644},
                                       "the saved drivers are restored", kSource));
  return out;
}

std::vector<std::string> check_drivers(
    const Fs& fs, const std::vector<std::pair<PciAddress, std::string>>& expect) {
  std::vector<std::string> bad;
  for (const auto& [a, want] : expect) {
    auto have = current_driver(fs, a).value_or("");
    if (have != want)
      bad.push_back(fmt::format("{} is driven by {} instead of {}", a.str(),
                                have.empty() ? "no driver" : have,
                                want.empty() ? "no driver" : want));
  }
  return bad;
}

}  // namespace exliar
