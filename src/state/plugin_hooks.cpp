#include "state/plugin_hooks.h"

#include <algorithm>
#include <cstdio>

#include "host/paths.h"
#include "probe/probe.h"

namespace exliar {

namespace {

void print_warnings(Context& ctx, PluginHost& host) {
  if (ctx.output.verbosity == Verbosity::quiet) return;
  for (const auto& w : host.take_warnings())
    std::fprintf(ctx.output.err, "exliar: warning: %s\n", w.c_str());
}

}  // namespace

BindEvent bind_event_for(const Fs& fs, const Plan& plan) {
  BindEvent e;
  const std::string& cmd = plan.intent.command;
  std::vector<PciAddress> addrs;
  if (cmd == "apply") {
    e.kind = "boot";
    if (auto a = parse_pci_address(plan.intent.gpu)) addrs.push_back(*a);
  } else if (cmd == "bind" || cmd == "unbind") {
    e.kind = "runtime";
    // /sys/bus/pci/devices/<addr>/driver_override names every device that moves.
    std::string prefix = std::string(paths::kPciDevices) + "/";
    for (const auto& s : plan.steps)
      if (auto* w = std::get_if<WriteSysfs>(&s.action); w && w->path.starts_with(prefix))
        if (auto a = parse_pci_address(
                w->path.substr(prefix.size(), w->path.find('/', prefix.size()) - prefix.size())))
          if (std::find(addrs.begin(), addrs.end(), *a) == addrs.end()) addrs.push_back(*a);
  }
  if (addrs.empty()) return e;
  Inventory inv = probe(fs);
  if (cmd == "apply") {
    if (const Gpu* g = inv.find_gpu(addrs.front())) addrs = g->functions;
  }
  for (const auto& a : addrs) {
    if (const PciDevice* d = inv.find(a)) e.devices.push_back(*d);
    if (inv.find_gpu(a)) e.gpus.push_back(a);
  }
  return e;
}

void attach_plugin_hooks(Context& ctx, const Plan& plan, PluginHost& host, TxOptions& opts) {
  const std::string& cmd = plan.intent.command;
  if (cmd != "apply" && cmd != "bind" && cmd != "unbind") return;
  auto event = std::make_shared<BindEvent>(bind_event_for(ctx.fs, plan));
  if (event->devices.empty()) return;
  if (cmd == "unbind") {
    opts.after_commit = [&ctx, &host, event](const std::string& id) {
      event->transaction_id = id;
      host.on_cleanup(*event);
      print_warnings(ctx, host);
    };
    return;
  }
  opts.before_binding = [&ctx, &host, event](const std::string& id) -> Status {
    event->transaction_id = id;
    auto r = host.on_pre_vfio_bind(*event);
    print_warnings(ctx, host);
    return r;
  };
  opts.after_commit = [&ctx, &host, event](const std::string& id) {
    event->transaction_id = id;
    host.on_post_vfio_bind(*event);
    print_warnings(ctx, host);
  };
}

}  // namespace exliar
