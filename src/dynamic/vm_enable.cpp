#include "dynamic/vm_enable.h"

#include <fmt/format.h>

#include <algorithm>

#include "dynamic/session.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::dynamic {

namespace {

constexpr const char* kSource = "dynamic/vm";
constexpr std::string_view kMarker = "# Installed by `exliar vm enable`";

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

const Gpu* find_gpu(const Inventory& inv, const PciAddress& a) {
  for (const auto& g : inv.gpus) {
    if (g.address == a) return &g;
    for (const auto& f : g.functions)
      if (f == a) return &g;
  }
  return nullptr;
}

}  // namespace

std::string dispatcher_path(Hypervisor h) {
  return std::string(h == Hypervisor::proxmox ? paths::kProxmoxDispatcher
                                              : paths::kLibvirtDispatcher);
}

std::string dispatcher_script(Hypervisor h, const std::string& exe) {
  std::string vms(paths::kExliarVmsDir);
  std::string s = "#!/bin/sh\n";
  s += std::string(kMarker) + " (removed by `exliar vm disable`).\n";
  if (h == Hypervisor::libvirt)
    s += "# libvirt runs it for every QEMU domain with NAME OP SUBOP EXTRA and the domain XML\n"
         "# on stdin (https://libvirt.org/hooks.html); exliar acts on prepare/begin and\n"
         "# release/end of the VMs it manages and exits 0 for everything else.\n";
  else
    s += "# Proxmox VE runs it as the hookscript of a VM (qm set VMID --hookscript\n"
         "# local:snippets/exliar-hook) with VMID PHASE; exliar acts on pre-start and\n"
         "# post-stop of the VMs it manages.\n";
  // The shell test keeps the call for an unmanaged domain to one stat().
  s += "[ -f " + sh_quote(vms) + "/\"$1\".json ] || exit 0\n";
  s += "exec " + sh_quote(exe) + " vm-hook \"$@\"\n";
  return s;
}

Result<EnablePlan> plan_vm_enable(const Fs& fs, const Inventory& inv, const EnableRequest& r) {
  if (!valid_vm_name(r.name))
    return fail("\"" + r.name +
                "\" is not a usable VM name: use the libvirt domain name or Proxmox VMID "
                "(letters, digits, _ . + -, up to 64 characters)");
  auto addr = parse_pci_address(r.gpu);
  if (!addr) return fail("--gpu: \"" + r.gpu + "\" is not a PCI address like 0000:01:00.0");
  const Gpu* g = find_gpu(inv, *addr);
  if (!g) {
    std::vector<std::string> have;
    for (const auto& x : inv.gpus) have.push_back(x.address.str());
    return fail("no GPU at " + addr->str() + " (GPUs on this host: " +
                (have.empty() ? std::string("none") : join(have, ", ")) + ")");
  }
  if (g->isolation == Isolation::no_iommu)
    return fail(
        "the IOMMU is not active on this host, so no GPU can be handed to a VM; enable "
        "VT-d/AMD-Vi in the firmware, then `exliar boot add intel_iommu=on` (or amd_iommu=on)");
  if (g->isolation == Isolation::shared) {
    std::vector<std::string> w;
    for (const auto& a : g->shared_with) w.push_back(a.str());
    return fail("the IOMMU group of " + g->address.str() + " also holds " + join(w, ", ") +
                ", which the VM would take too; see `exliar check --gpu " + g->address.str() + "`");
  }
  std::string cfg_path = vm_config_path(r.name);
  if (fs.exists(cfg_path))
    return fail("VM " + r.name + " is already enabled; `exliar vm disable " + r.name +
                    "` first to change it",
                fs.display(cfg_path));

  Hypervisor hv = Hypervisor::libvirt;
  if (r.hypervisor == "proxmox" || (r.hypervisor == "auto" && fs.is_dir(paths::kEtcPve)))
    hv = Hypervisor::proxmox;
  if (hv == Hypervisor::proxmox &&
      (r.name.empty() ||
       !std::all_of(r.name.begin(), r.name.end(), [](char ch) { return ch >= '0' && ch <= '9'; })))
    return fail("on Proxmox VE the VM is named by its numeric VMID (e.g. 100), not \"" + r.name +
                "\"");

  EnablePlan out;
  VmConfig& c = out.config;
  c.name = r.name;
  c.gpu = g->address;
  c.functions = g->functions;
  c.single_gpu = r.single_gpu;
  c.hypervisor = hv;
  if (!r.display_manager.empty()) c.display_manager = r.display_manager;
  c.unload_modules = r.unload_modules;
  // Round-trip through the parser: what is written must be what vm-hook accepts.
  auto check = parse_vm_config(format_vm_config(c), cfg_path);
  if (!check) return tl::unexpected(check.error());

  out.plan.intent.command = "vm enable";
  out.plan.intent.gpu = g->address.str();
  out.plan.steps.push_back(edit_step(EditFile{cfg_path, std::nullopt, format_vm_config(c), 0644},
                                     "what `exliar vm-hook` does when " + r.name + " starts",
                                     kSource));
  std::string disp = dispatcher_path(hv);
  std::string script = dispatcher_script(hv, r.exe);
  auto cur = fs.read_file(disp);
  if (cur && cur->find(kMarker) == std::string::npos)
    return fail(
        "exists and was not written by exliar; exliar will not replace it (move it "
        "away, or remove it if it is an old copy)",
        fs.display(disp));
  if (!cur || *cur != script)
    out.plan.steps.push_back(edit_step(
        EditFile{disp, cur ? std::optional<std::string>(*cur) : std::nullopt, script, 0755},
        hv == Hypervisor::libvirt ? "libvirt's hook: calls `exliar vm-hook` for managed VMs"
                                  : "Proxmox hookscript: calls `exliar vm-hook`",
        kSource));
  if (hv == Hypervisor::libvirt) {
    // libvirtd looks for hook scripts once, at start-up (src/util/virhook.c
    // virHookInitialize): a hook directory that did not exist then is not seen.
    if (!fs.exists(paths::kLibvirtQemuHook) && !fs.is_dir(paths::kLibvirtQemuHookD))
      out.next_steps.push_back(
          "restart libvirtd so that it sees its new hook: systemctl restart libvirtd");
    out.next_steps.push_back("start the VM: virsh start " + r.name +
                             " (its domain needs the GPU as <hostdev>: exliar vm-xml --gpu " +
                             g->address.str() + ")");
  } else {
    out.next_steps.push_back("attach the hookscript: qm set " + r.name +
                             " --hookscript local:snippets/exliar-hook");
    out.next_steps.push_back("add the GPU to the VM: qm set " + r.name + " --" +
                             "hostpci0 \"$(exliar vm-xml --format proxmox --gpu " +
                             g->address.str() + " | cut -d' ' -f2)\"");
  }
  if (r.single_gpu)
    out.plan.warnings.push_back("single-GPU mode: while " + r.name +
                                " runs, this host has no display or console; use SSH to reach it");
  return out;
}

Result<std::vector<VmConfig>> list_vm_configs(const Fs& fs) {
  std::vector<VmConfig> out;
  if (!fs.is_dir(paths::kExliarVmsDir)) return out;
  auto names = fs.list_dir(paths::kExliarVmsDir);
  if (!names) return tl::unexpected(names.error());
  for (const auto& n : *names) {
    if (n.size() < 6 || n.substr(n.size() - 5) != ".json") continue;
    std::string p = path_join(paths::kExliarVmsDir, n);
    auto t = fs.read_file(p);
    if (!t) return tl::unexpected(t.error());
    auto c = parse_vm_config(*t, fs.display(p));
    if (!c) return tl::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

Result<Plan> plan_vm_disable(const Fs& fs, const std::string& name) {
  if (!valid_vm_name(name)) return fail("\"" + name + "\" is not a valid VM name");
  std::string cfg_path = vm_config_path(name);
  auto text = fs.read_file(cfg_path);
  if (!text) {
    if (text.error().err == ENOENT)
      return fail("VM " + name + " is not enabled (see `exliar vm list`)", fs.display(cfg_path));
    return tl::unexpected(text.error());
  }
  auto cfg = parse_vm_config(*text, fs.display(cfg_path));
  if (fs.exists(session_path(name)))
    return fail("VM " + name +
                    " holds its GPU right now; stop the VM first (or give the GPU "
                    "back with `exliar vm-hook " +
                    name + " release end -`)",
                fs.display(session_path(name)));
  Plan p;
  p.intent.command = "vm disable";
  p.steps.push_back(edit_step(EditFile{cfg_path, *text, std::nullopt, 0644},
                              "exliar no longer manages " + name, kSource));
  // The dispatcher goes with the last VM that uses it (a broken config keeps it: unknown).
  if (!cfg) return p;
  p.intent.gpu = cfg->gpu.str();
  auto all = list_vm_configs(fs);
  bool others = !all;
  if (all)
    for (const auto& c : *all)
      others = others || (c.name != name && c.hypervisor == cfg->hypervisor);
  std::string disp = dispatcher_path(cfg->hypervisor);
  auto cur = fs.read_file(disp);
  if (!others && cur && cur->find(kMarker) != std::string::npos)
    p.steps.push_back(edit_step(EditFile{disp, *cur, std::nullopt, 0755},
                                "no other VM uses exliar's hook", kSource));
  return p;
}

}  // namespace exliar::dynamic
