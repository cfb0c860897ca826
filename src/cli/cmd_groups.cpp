#include <fmt/format.h>

#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/output.h"
#include "host/text.h"
#include "probe/inventory_json.h"
#include "probe/probe.h"
#include "ui/describe.h"
#include "ui/text.h"

namespace exliar::cli {

namespace {

std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// Graphviz: one node per function, edges from upstream bridge to device, IOMMU groups as
/// clusters, GPU functions filled.
std::string to_dot(const Inventory& inv) {
  std::set<PciAddress> gpu_fns;
  for (const auto& g : inv.gpus)
    for (const auto& f : g.functions) gpu_fns.insert(f);
  auto node = [&](const PciDevice& d) {
    std::string label =
        d.address.str() + "\\n" +
        dot_escape(d.device_name ? *d.device_name
                                 : fmt::format("[{:04x}:{:04x}]", d.vendor_id, d.device_id));
    std::string style = gpu_fns.count(d.address) ? ", style=filled, fillcolor=\"#ffd27f\"" : "";
    return fmt::format("    \"{}\" [label=\"{}\"{}];\n", d.address.str(), label, style);
  };
  std::string out = "digraph pci {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n";
  std::set<PciAddress> placed;
  for (const auto& g : inv.groups) {
    out +=
        fmt::format("  subgraph cluster_group_{} {{\n    label=\"IOMMU group {}\";\n", g.id, g.id);
    for (const auto& a : g.devices)
      if (const PciDevice* d = inv.find(a)) {
        out += node(*d);
        placed.insert(a);
      }
    out += "  }\n";
  }
  for (const auto& d : inv.devices)
    if (!placed.count(d.address)) out += node(d).substr(2);
  for (const auto& d : inv.devices)
    if (d.parent) out += fmt::format("  \"{}\" -> \"{}\";\n", d.parent->str(), d.address.str());
  out += "}\n";
  return out;
}

}  // namespace

int run_groups(Context& ctx, const GroupsOptions& opts) {
  Inventory inv = probe(ctx.fs);
  print_notes(ctx, inv);
  if (opts.dot) return emit(ctx, to_dot(inv));
  if (ctx.output.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& g : inv.groups) {
      nlohmann::ordered_json devs = nlohmann::ordered_json::array();
      for (const auto& a : g.devices)
        if (const PciDevice* d = inv.find(a)) devs.push_back(device_to_json(*d));
      j.push_back({{"id", g.id}, {"devices", devs}});
    }
    nlohmann::ordered_json out;
    out["schema_version"] = 1;
    out["iommu_groups"] = j;
    return emit_json(ctx, out);
  }
  if (inv.groups.empty())
    return emit(ctx,
                "No IOMMU groups: the IOMMU is not active on this system.\n"
                "Run `exliar check` for how to enable it.\n");
  std::set<PciAddress> gpu_fns;
  for (const auto& g : inv.gpus) gpu_fns.insert(g.address);
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : inv.groups)
    for (const auto& a : g.devices) {
      const PciDevice* d = inv.find(a);
      if (!d) {
        rows.push_back(
            {std::to_string(g.id), a.str(), "?", "?", "-", "(not found in the PCI scan)"});
        continue;
      }
      std::string addr =
          gpu_fns.count(a) ? ui::paint(ctx.output.color, ui::Color::bold, a.str()) : a.str();
      rows.push_back({std::to_string(g.id), addr, fmt::format("{:04x}", d->class_sub()),
                      fmt::format("{:04x}:{:04x}", d->vendor_id, d->device_id),
                      d->driver ? *d->driver : "-", ui::device_label(*d)});
    }
  return emit(ctx,
              ui::render_table({"GROUP", "ADDRESS", "CLASS", "IDS", "DRIVER", "DEVICE"}, rows));
}

}  // namespace exliar::cli
