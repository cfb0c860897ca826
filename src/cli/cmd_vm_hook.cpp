// `exliar vm-hook ARGS...`: called by the dispatcher libvirt or Proxmox runs (see
// dynamic/vm_enable.cpp) with the hypervisor's own arguments. Unmanaged VMs and other
// operations exit 0 at once without a word: libvirt calls hooks for every domain and every
// operation. Messages go to stderr, which libvirt copies into its log; a non-zero exit
// makes libvirt (or Proxmox, in pre-start) refuse to start the VM.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "dynamic/hook_run.h"
#include "dynamic/hook_steps.h"
#include "host/text.h"

namespace exliar::cli {

namespace {

using namespace exliar::dynamic;

void log(const Context& ctx, const std::string& msg) {
  std::fprintf(ctx.output.err, "exliar vm-hook: %s\n", msg.c_str());
}

/// libvirt writes the domain XML to stdin; read it so it never blocks on a full pipe.
void drain_stdin(const Context& ctx) {
  if (ctx.output.stdin_is_tty) return;
  char buf[4096];
  while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
}

void report_steps(const Context& ctx, const HookResult& r) {
  if (ctx.output.verbosity == Verbosity::quiet) return;
  for (const auto& st : r.session.steps) {
    std::string line = "  " + st.status + ": " + detail::step_text(st);
    if (!st.note.empty()) line += " (" + st.note + ")";
    std::fprintf(ctx.output.err, "%s\n", line.c_str());
  }
  for (const auto& n : r.notes) log(ctx, "note: " + n);
  for (const auto& c : r.would_run) log(ctx, "--root: not run: " + c);
}

}  // namespace

int run_vm_hook(Context& ctx, const VmHookOptions& o) {
  HookAction action = classify_hook_call(o.args);
  if (action == HookAction::none || o.args.empty() || !valid_vm_name(o.args[0])) return kOk;
  const std::string& vm = o.args[0];
  std::string cfg_path = vm_config_path(vm);
  auto text = ctx.fs.read_file(cfg_path);
  // Not ours: silent and fast. A release is still honoured when a session is left over
  // (the VM was disabled while running, or recovery by hand).
  bool has_session = ctx.fs.exists(session_path(vm));
  if (!text && !(action == HookAction::release && has_session)) {
    if (text.error().err == ENOENT) return kOk;
    log(ctx, text.error().describe());
    return kEnvironment;
  }
  drain_stdin(ctx);
  HookOptions ho;
  ho.run_commands = ctx.fs.is_live();
  auto t0 = std::chrono::steady_clock::now();
  auto secs = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (action == HookAction::prepare) {
    auto cfg = parse_vm_config(*text, ctx.fs.display(cfg_path));
    if (!cfg) {
      log(ctx, cfg.error().describe());
      return kUsage;
    }
    if (cfg->name != vm) {
      log(ctx, fmt::format("{} names the VM \"{}\", not \"{}\"; refusing", ctx.fs.display(cfg_path),
                           cfg->name, vm));
      return kUsage;
    }
    auto r = prepare_vm(ctx, *cfg, ho);
    if (!r) {
      log(ctx,
          fmt::format("{}: not giving {} to the VM: {}", vm, cfg->gpu.str(), r.error().describe()));
      return kApplyFailed;
    }
    report_steps(ctx, *r);
    log(ctx, fmt::format("{}: {} is with the VM ({:.2f} s)", vm, cfg->gpu.str(), secs()));
    return kOk;
  }
  auto r = release_vm(ctx, vm, ho);
  if (!r) {
    log(ctx, fmt::format("{}: {}", vm, r.error().describe()));
    return kApplyFailed;
  }
  if (!*r) {
    if (ctx.output.verbosity == Verbosity::verbose)
      log(ctx, vm + ": nothing to release (the GPU is with the host)");
    return kOk;
  }
  report_steps(ctx, **r);
  log(ctx,
      fmt::format("{}: {} is back with the host ({:.2f} s)", vm, (*r)->session.gpu.str(), secs()));
  return kOk;
}

}  // namespace exliar::cli
