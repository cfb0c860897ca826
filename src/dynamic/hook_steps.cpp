#include "dynamic/hook_steps.h"

#include <fmt/format.h>

#include <thread>

#include "dynamic/host_state.h"
#include "host/paths.h"
#include "host/text.h"
#include "modules/bind.h"
#include "probe/probe.h"
#include "state/transaction.h"

namespace exliar::dynamic::detail {

namespace {

using namespace std::chrono_literals;

/// Runs argv (or lists it when commands are off). A non-zero exit is an error with the
/// command's stderr.
Status command(StepEnv& env, const std::vector<std::string>& argv, std::chrono::milliseconds t,
               int* exit_code = nullptr) {
  if (!env.opts.run_commands) {
    env.would_run.push_back(shell_quote(argv));
    if (exit_code) *exit_code = 0;
    return {};
  }
  RunOptions ro;
  ro.timeout = t;
  auto r = env.ctx.runner.run(argv, ro);
  if (!r) return tl::unexpected(r.error());
  if (exit_code) {
    *exit_code = r->exit_code;
    return {};
  }
  if (r->timed_out)
    return fail(fmt::format("`{}` did not finish within {} s and was killed", shell_quote(argv),
                            t.count() / 1000));
  if (r->exit_code != 0) {
    std::string why(trim(r->err.empty() ? r->out : r->err));
    return fail(fmt::format("`{}` exited with status {}{}{}", shell_quote(argv), r->exit_code,
                            why.empty() ? "" : ": ", why));
  }
  return {};
}

DisplayManager dm_of(const HookStep& s) { return {s.target, s.detail, s.target}; }

std::string vtcon_bind(const std::string& dir) {
  return path_join(path_join(paths::kSysClassVtconsole, dir), "bind");
}

// --- the table -------------------------------------------------------------------------

Result<bool> stop_service(StepEnv& env, HookStep& s) {
  int rc = 0;
  // `systemctl is-active` exits 0 only for an active unit (systemctl(1)); a stopped display
  // manager is left alone, and not started again on release.
  if (auto r = command(env, service_argv(dm_of(s), "is-active"), 10s, &rc); !r)
    return tl::unexpected(r.error());
  if (rc != 0) {
    s.note = "not running";
    return false;
  }
  if (auto r = command(env, service_argv(dm_of(s), "stop"), 90s); !r)
    return tl::unexpected(r.error());
  env.stopped_service = true;
  return true;
}
Status start_service(StepEnv& env, HookStep& s) {
  return command(env, service_argv(dm_of(s), "start"), 90s);
}

Result<bool> check_holders(StepEnv& env, HookStep& s) {
  std::vector<std::string> nodes;
  for (auto n : split_ws(s.target)) nodes.emplace_back(n);
  auto deadline = std::chrono::steady_clock::now() + env.opts.holder_wait;
  for (;;) {
    auto h = find_holders(env.ctx.fs, nodes);
    if (h.empty()) return true;
    // A display manager that was just stopped may take a moment for its session to exit.
    if (!env.stopped_service || std::chrono::steady_clock::now() >= deadline)
      return fail(fmt::format("the GPU is in use: {}; close (or stop) {} and start the VM again",
                              describe_holders(h), h.size() == 1 ? "it" : "them"));
    std::this_thread::sleep_for(100ms);
  }
}

Result<bool> vtcon_unbind(StepEnv& env, HookStep& s) {
  if (auto w = env.ctx.fs.write_in_place(vtcon_bind(s.target), "0"); !w)
    return tl::unexpected(w.error());
  return true;
}
Status vtcon_rebind(StepEnv& env, HookStep& s) {
  // fbcon unregisters its console when the last framebuffer goes and registers a new one
  // (maybe under another vtconN) when the driver is back: find it by name.
  for (const auto& v : list_vtconsoles(env.ctx.fs)) {
    if (v.name != s.detail) continue;
    if (v.bound) return {};
    return env.ctx.fs.write_in_place(vtcon_bind(v.dir), "1");
  }
  env.notes.push_back("the console \"" + s.detail +
                      "\" did not come back (its framebuffer driver is not loaded)");
  return {};
}

Result<bool> fb_unbind(StepEnv& env, HookStep& s) {
  std::string p = path_join(path_join(paths::kPlatformDrivers, s.target), "unbind");
  if (auto w = env.ctx.fs.write_in_place(p, s.detail); !w) return tl::unexpected(w.error());
  return true;
}
Status fb_rebind(StepEnv& env, HookStep& s) {
  std::string dev = path_join(paths::kPlatformDevices, s.detail);
  if (!env.ctx.fs.exists(dev)) {
    // The GPU's DRM driver removes the firmware framebuffer it replaces
    // (drm_aperture_remove_conflicting_framebuffers): nothing to give back.
    env.notes.push_back(s.detail + " is gone: the GPU's own driver took over its framebuffer");
    return {};
  }
  if (env.ctx.fs.exists(path_join(dev, "driver"))) return {};
  return env.ctx.fs.write_in_place(path_join(path_join(paths::kPlatformDrivers, s.target), "bind"),
                                   s.detail);
}

Result<bool> unload_module(StepEnv& env, HookStep& s) {
  if (env.opts.run_commands && !module_live(env.ctx.fs, s.target)) {
    s.note = "not loaded";
    return false;
  }
  // rmmod, not `modprobe -r`: only this module leaves, and the reverse is one modprobe.
  if (auto r = command(env, {"rmmod", s.target}, 30s); !r) return tl::unexpected(r.error());
  return true;
}
Status load_module(StepEnv& env, HookStep& s) {
  // modprobe of a loaded module does nothing and succeeds (modprobe(8)).
  return command(env, {"modprobe", s.target}, 60s);
}

Result<bool> bind_group(StepEnv& env, HookStep& s) {
  Inventory inv = probe(env.ctx.fs);
  auto b = plan_bind(env.ctx.fs, inv, env.session.gpu.str(), false);
  if (!b) return tl::unexpected(b.error());
  if (b->plan.steps.empty()) {
    s.note = "already on vfio-pci";
    return false;
  }
  auto tx = run_transaction(env.ctx, b->plan);
  if (!tx) return tl::unexpected(tx.error());
  s.detail = tx->id;
  if (env.ctx.fs.is_live()) {
    auto bad = check_drivers(env.ctx.fs, b->expect);
    if (!bad.empty()) {
      auto rb = rollback_transaction(env.ctx, tx->id, false);
      s.detail.clear();
      std::string msg = "vfio-pci did not take the group: " + join(bad, "; ");
      if (!rb) msg += "; rolling the bind back failed too: " + rb.error().describe();
      return fail(msg);
    }
  }
  return true;
}
Status unbind_group(StepEnv& env, HookStep& s) {
  if (s.detail.empty()) {
    // Started but never recorded its transaction: the engine knows if it was interrupted.
    if (check_interrupted(env.ctx.fs)) return {};
    auto u = undo_transaction(env.ctx, "");
    if (!u) return tl::unexpected(u.error().error);
    return {};
  }
  auto r = rollback_transaction(env.ctx, s.detail, false);
  if (!r && r.error().message.find("already rolled back") != std::string::npos) return {};
  if (!r) return tl::unexpected(r.error());
  return {};
}

struct Kind {
  std::string_view name;
  Result<bool> (*run)(StepEnv&, HookStep&);
  Status (*undo)(StepEnv&, HookStep&);  ///< nullptr: nothing to undo
};
constexpr Kind kKinds[] = {
    {"stop-service", stop_service, start_service}, {"check-holders", check_holders, nullptr},
    {"vtcon-unbind", vtcon_unbind, vtcon_rebind},  {"fb-unbind", fb_unbind, fb_rebind},
    {"unload-module", unload_module, load_module}, {"bind", bind_group, unbind_group},
};

const Kind* find_kind(std::string_view k) {
  for (const auto& x : kKinds)
    if (x.name == k) return &x;
  return nullptr;
}

}  // namespace

Result<bool> do_step(StepEnv& env, HookStep& step) {
  const Kind* k = find_kind(step.kind);
  if (!k) return fail("unknown step kind \"" + step.kind + "\"");
  return k->run(env, step);
}

Status undo_step(StepEnv& env, HookStep& step) {
  const Kind* k = find_kind(step.kind);
  if (!k) return fail("unknown step kind \"" + step.kind + "\"; undo it by hand");
  if (!k->undo) return {};
  return k->undo(env, step);
}

std::string step_text(const HookStep& s) {
  if (s.kind == "stop-service") return "stop the display manager " + s.target;
  if (s.kind == "check-holders")
    return s.target.empty() ? "check that no process holds the GPU"
                            : "check that no process holds " + s.target;
  if (s.kind == "vtcon-unbind") return "unbind the console " + s.target + " (" + s.detail + ")";
  if (s.kind == "fb-unbind") return "release the firmware framebuffer " + s.detail;
  if (s.kind == "unload-module") return "unload the module " + s.target;
  if (s.kind == "bind") return "bind IOMMU group " + s.target + " to vfio-pci";
  return s.kind + " " + s.target;
}

}  // namespace exliar::dynamic::detail
