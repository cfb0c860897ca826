#include "dynamic/hook_run.h"

#include <fmt/format.h>

#include <algorithm>

#include "dynamic/hook_steps.h"
#include "dynamic/host_state.h"
#include "host/paths.h"
#include "host/text.h"
#include "modules/bind_safety.h"
#include "probe/probe.h"
#include "state/journal.h"

namespace exliar::dynamic {

HookAction classify_hook_call(const std::vector<std::string>& a) {
  if (a.size() >= 3 && a[1] == "prepare" && a[2] == "begin") return HookAction::prepare;
  if (a.size() >= 3 && a[1] == "release" && a[2] == "end") return HookAction::release;
  if (a.size() == 2 && a[1] == "pre-start") return HookAction::prepare;
  if (a.size() == 2 && a[1] == "post-stop") return HookAction::release;
  return HookAction::none;
}

namespace {

const Gpu* find_gpu(const Inventory& inv, const PciAddress& a) {
  for (const auto& g : inv.gpus)
    if (g.address == a) return &g;
  return nullptr;
}

std::vector<std::string> addrs(const std::vector<PciAddress>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(a.str());
  return out;
}

/// PCI devices a module's PCI drivers are bound to (/sys/module/<m>/drivers/pci:<drv>).
std::vector<std::string> module_devices(const Fs& fs, const std::string& m) {
  std::vector<std::string> out;
  auto drivers = fs.list_dir(path_join(path_join(paths::kSysModule, m), "drivers"));
  if (!drivers) return out;
  for (const auto& d : *drivers) {
    if (d.rfind("pci:", 0) != 0) continue;
    auto devs = fs.list_dir(path_join(paths::kPciDrivers, d.substr(4)));
    if (!devs) continue;
    for (const auto& n : *devs)
      if (parse_pci_address(n)) out.push_back(n);
  }
  return out;
}

Status save(Fs& fs, const Session& s) {
  if (auto d = fs.make_dirs(paths::kRunExliar, 0755); !d) return tl::unexpected(d.error());
  return fs.write_atomic(session_path(s.vm), format_session(s), 0644);
}

/// Undoes the steps of s that are done or started, newest first; every undo is tried even
/// after one fails. Returns the failures as sentences.
std::vector<std::string> undo_all(detail::StepEnv& env, Session& s) {
  std::vector<std::string> failures;
  for (auto it = s.steps.rbegin(); it != s.steps.rend(); ++it) {
    if (it->status != "done" && it->status != "started") continue;
    auto u = detail::undo_step(env, *it);
    if (u) {
      it->status = "undone";
    } else {
      it->status = "failed";
      it->note = "undo failed: " + u.error().describe();
      failures.push_back(detail::step_text(*it) + ": " + u.error().describe());
    }
    if (auto w = save(env.ctx.fs, s); !w)
      failures.push_back("recording it: " + w.error().describe());
  }
  return failures;
}

}  // namespace

Result<std::vector<HookStep>> plan_prepare(const Fs& fs, const Inventory& inv, const VmConfig& c) {
  const Gpu* g = find_gpu(inv, c.gpu);
  if (!g)
    return fail(fmt::format(
        "VM {} is configured for the GPU {}, which is not on this host now (moved to another "
        "slot?); run `exliar vm disable {}` and `exliar vm enable {} --gpu ADDR`",
        c.name, c.gpu.str(), c.name, c.name));
  if (g->isolation == Isolation::no_iommu)
    return fail("the IOMMU is not active on this host, so vfio-pci cannot take " + c.gpu.str() +
                "; enable VT-d/AMD-Vi in the firmware and on the kernel command line");
  if (g->isolation == Isolation::shared)
    return fail(fmt::format(
        "the IOMMU group of {} is not isolated: it also holds {}, which would go to the VM too; "
        "`exliar check --gpu {}` explains the options",
        c.gpu.str(), join(addrs(g->shared_with), ", "), c.gpu.str()));
  std::vector<const PciDevice*> members;
  for (const auto& f : g->functions)
    if (const PciDevice* d = inv.find(f)) members.push_back(d);

  std::vector<HookStep> steps;
  auto add = [&](std::string kind, std::string target, std::string detail = {}) {
    steps.push_back({std::move(kind), std::move(target), std::move(detail)});
  };
  if (!c.single_gpu) {
    auto why = bind_refusals(fs, members);
    if (!why.empty())
      return fail(fmt::format(
          "{}; for the host's display GPU use single-GPU mode: `exliar vm disable {} && exliar vm "
          "enable {} --gpu {} --single-gpu`",
          join(why, "; "), c.name, c.name, c.gpu.str()));
  } else if (auto dm = detect_display_manager(fs, to_string(inv.system.init), c.display_manager)) {
    add("stop-service", dm->service, dm->init);
  }
  add("check-holders", join(gpu_device_nodes(fs, g->functions), " "));
  if (c.single_gpu) {
    for (const auto& v : list_vtconsoles(fs))
      if (v.bound && is_fbcon(v)) add("vtcon-unbind", v.dir, v.name);
    for (const auto& fb : list_firmware_framebuffers(fs)) add("fb-unbind", fb.driver, fb.device);
    std::vector<std::string> roots;
    for (const PciDevice* d : members)
      if (d->is_display())
        if (auto m = driver_module(fs, d->address)) roots.push_back(*m);
    for (const auto& m : c.unload_modules)
      if (std::find(roots.begin(), roots.end(), m) == roots.end()) roots.push_back(m);
    auto order = unload_order(fs, roots);
    // A module that also drives a device outside the GPU (amdgpu with an APU and a card)
    // stays: the GPU is unbound from it instead, by the bind step.
    std::vector<std::string> mine = addrs(g->functions);
    bool shared = false;
    for (const auto& m : order)
      for (const auto& dev : module_devices(fs, m))
        shared = shared || std::find(mine.begin(), mine.end(), dev) == mine.end();
    if (!shared)
      for (const auto& m : order) add("unload-module", m);
  }
  add("bind", std::to_string(*g->iommu_group));
  return steps;
}

Result<HookResult> prepare_vm(Context& ctx, const VmConfig& c, const HookOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  std::string sp = session_path(c.name);
  if (auto t = ctx.fs.read_file(sp)) {
    auto old = parse_session(*t, ctx.fs.display(sp));
    std::string since = old ? old->since : "an unknown time";
    return fail(fmt::format("VM {} already holds its GPU (since {}; a release did not finish?): "
                            "run `exliar vm-hook "
                            "{} release end -` first",
                            c.name, since, c.name),
                ctx.fs.display(sp));
  }
  Inventory inv = probe(ctx.fs);
  auto planned = plan_prepare(ctx.fs, inv, c);
  if (!planned) return tl::unexpected(planned.error());

  HookResult res;
  Session& s = res.session;
  s.vm = c.name;
  s.gpu = c.gpu;
  s.single_gpu = c.single_gpu;
  s.since = utc_now();
  s.steps = *planned;
  detail::StepEnv env{ctx, o, s, res.notes, res.would_run};
  if (auto w = save(ctx.fs, s); !w) return tl::unexpected(w.error());
  for (size_t i = 0; i < s.steps.size(); ++i) {
    HookStep& st = s.steps[i];
    st.status = "started";
    if (auto w = save(ctx.fs, s); !w) {
      st.status = "planned";
      auto f = undo_all(env, s);
      if (f.empty()) (void)ctx.fs.remove(sp);
      return tl::unexpected(w.error());
    }
    auto r = detail::do_step(env, st);
    if (r) {
      st.status = *r ? "done" : "skipped";
      if (auto w = save(ctx.fs, s); !w) return tl::unexpected(w.error());
      continue;
    }
    // Undo what was done, newest first; this step itself did nothing (or undid itself).
    st.status = "failed";
    st.note = r.error().describe();
    auto failures = undo_all(env, s);
    std::string msg = fmt::format("step {} of {} ({}) failed: {}", i + 1, s.steps.size(),
                                  detail::step_text(st), r.error().describe());
    if (failures.empty()) {
      (void)ctx.fs.remove(sp);
      msg += i == 0 ? "; nothing was changed" : "; the steps before it were undone";
      return fail(msg);
    }
    s.state = "release-failed";
    (void)save(ctx.fs, s);
    return fail(msg + "; undoing the steps before it failed too: " + join(failures, "; ") +
                    fmt::format(". Fix that and run `exliar vm-hook {} release end -`", c.name),
                ctx.fs.display(sp));
  }
  s.state = "prepared";
  s.prepare_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (auto w = save(ctx.fs, s); !w) return tl::unexpected(w.error());
  return res;
}

Result<std::optional<HookResult>> release_vm(Context& ctx, const std::string& vm,
                                             const HookOptions& o) {
  std::string sp = session_path(vm);
  auto t = ctx.fs.read_file(sp);
  if (!t) {
    if (t.error().err == ENOENT) return std::optional<HookResult>{};
    return tl::unexpected(t.error());
  }
  auto parsed = parse_session(*t, ctx.fs.display(sp));
  if (!parsed) return tl::unexpected(parsed.error());
  HookResult res;
  res.session = std::move(*parsed);
  Session& s = res.session;
  s.state = "releasing";
  detail::StepEnv env{ctx, o, s, res.notes, res.would_run};
  if (auto w = save(ctx.fs, s); !w) return tl::unexpected(w.error());
  // A step whose undo failed earlier is tried again: that is the manual recovery.
  for (auto& st : s.steps)
    if (st.status == "failed" && st.note.rfind("undo failed", 0) == 0) st.status = "done";
  auto failures = undo_all(env, s);
  if (!failures.empty()) {
    s.state = "release-failed";
    (void)save(ctx.fs, s);
    return fail("giving the GPU back did not finish: " + join(failures, "; ") +
                    fmt::format(". Fix that and run `exliar vm-hook {} release end -` again", vm),
                ctx.fs.display(sp));
  }
  if (auto r = ctx.fs.remove(sp); !r) return tl::unexpected(r.error());
  return std::optional<HookResult>(std::move(res));
}

}  // namespace exliar::dynamic
